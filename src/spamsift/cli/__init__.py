"""The ``spamsift`` command: a thin translator from arguments to jobs and back.

One module per command group: :mod:`.train` (train, evaluate, replay, retrain,
demo), :mod:`.score` (score, classify, inspect), :mod:`.serve` (serve, spamd, milter,
learn), :mod:`.admin` (models, corpus, config) and :mod:`.keys` (API keys); what
they share (apps, consoles, exit codes) in :mod:`.common`. Each command imports
the library it runs when it runs, so ``spamsift classify`` loads no server, no
training and no plotting.
"""

from __future__ import annotations

import importlib

from spamsift.cli.common import EXIT_CODES, app, exit_code
from spamsift.cli.keys import keys_app

__all__ = ["app", "main", "exit_code", "EXIT_CODES"]

for _group in ("train", "score", "serve", "admin"):  # each registers its commands, in order
    importlib.import_module(f"spamsift.cli.{_group}")
app.add_typer(keys_app, name="keys", help="Create, list and revoke API keys.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
