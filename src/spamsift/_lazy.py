"""Public names of a package, imported on first use (PEP 562).

Each stage's ``__init__`` maps its public names to the modules that hold them, so
``from spamsift.models import SpamModel`` works while ``import spamsift.models.bundled``
does not load scikit-learn: a command pays only for what it uses (``spamsift classify``
of one message must start in under a second).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, where: Mapping[str, str]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose public names live in the
    modules ``where`` names (relative to the package, or absolute ``spamsift.*``)."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        full = module if module.startswith("spamsift.") else f"{package}.{module}"
        value = getattr(importlib.import_module(full), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
