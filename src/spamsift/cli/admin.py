"""``spamsift models``, ``corpus`` and ``config``: versions, the corpus, the effective settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from spamsift.cli.common import (
    _errors,
    _fmt,
    _settings,
    app,
    corpus_app,
    err,
    models_app,
    out,
)


@models_app.command("list")
def models_list(
    registry: Annotated[Path, typer.Option(help="Registry folder.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the versions in a registry; the active one is marked.

    With SPAMSIFT_DATABASE_URL on PostgreSQL, the `models` commands work on the registry
    the servers share in that database (REGISTRY holds this machine's cache).
    """
    from spamsift.datadir import open_registry

    with _errors():
        versions = open_registry(registry, _settings()).versions()
        if as_json:
            print(json.dumps([v.__dict__ for v in versions], default=str))
            return
        t = Table("active", "version", "created", "(1-ROCA)%", "problem")
        for v in versions:
            t.add_row("*" if v.is_active else "", v.version, v.created or "",
                      _fmt(v.metrics.get("one_minus_roca_pct", "")), v.problem or "")
        out.print(t)


@models_app.command("add")
def models_add(
    model: Annotated[Path, typer.Argument(help="Model directory to add.")],
    registry: Annotated[Path, typer.Option(help="Registry folder.")],
    activate: Annotated[bool, typer.Option(help="Make it the active version.")] = False,
) -> None:
    """Add a model directory to a registry."""
    from spamsift.datadir import open_registry

    with _errors():
        reg = open_registry(registry, _settings())
        version = reg.add(model)
        if activate:
            reg.activate(version)
        print(version)


@models_app.command("activate")
def models_activate(
    version: Annotated[str, typer.Argument(help="Version to make active (roll forward or back).")],
    registry: Annotated[Path, typer.Option(help="Registry folder.")],
) -> None:
    """Switch the active version atomically."""
    from spamsift.datadir import open_registry

    with _errors():
        open_registry(registry, _settings()).activate(version)
        err.print(f"active: {version}")


@corpus_app.command("download")
def corpus_download(
    dest: Annotated[Path, typer.Option(help="Folder to build the corpus in.")],
    base_url: Annotated[str | None, typer.Option(help="Mirror of the public corpus folder.")] = None,
) -> None:
    """Fetch the SpamAssassin public corpus, verify it, and write index.csv."""
    from spamsift.ingest.corpus import OFFICIAL_URL, download_corpus

    with _errors():
        s = download_corpus(dest, base_url=base_url or OFFICIAL_URL)
        out.print(f"{sum(s.counts.values())} messages in {dest}; index: {s.index}")
        if s.rejected:
            err.print(f"[yellow]{len(s.rejected)} messages failed verification and were left out")


@app.command("config")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object: each setting's value and source.")] = False,
) -> None:
    """Show every effective setting, its value and where it came from (default, file, env).

    What the daemons will use when started from here: the environment, then the TOML
    file SPAMSIFT_CONFIG names, then the defaults. Passwords are masked.
    """
    from spamsift.config import CONFIG_ENV, settings_sources

    with _errors():
        sources = settings_sources()
    if as_json:
        print(json.dumps({name: {"value": value, "source": source}
                          for name, (value, source) in sources.items()}, indent=2))
        return
    import os

    t = Table("setting", "value", "source",
              caption=f"{CONFIG_ENV}={os.environ.get(CONFIG_ENV) or '(not set)'}")
    for name, (value, source) in sources.items():
        t.add_row(name, json.dumps(value), source)
    out.print(t, markup=False, highlight=False)
