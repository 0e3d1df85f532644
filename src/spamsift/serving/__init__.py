"""Serving: one service facade behind every door (CLI, REST, spamd, milter).

The live service of a data folder (active model, feedback followed) is opened by
:func:`open_live`; the REST app by :func:`create_app`; the daemons run from
:mod:`.server`, :mod:`.spamd` and :mod:`.milter`.
"""

from __future__ import annotations

from spamsift._lazy import lazy_names

# Each public name, and the module that holds it.
_WHERE = {
    "SpamService": "service",
    "resolve_model": "service",
    "Live": "live",
    "open_live": "live",
    "learn": "live",
    "forget": "live",
    "create_app": "api.app",
}

__all__ = list(_WHERE)

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
