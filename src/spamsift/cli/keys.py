"""``spamsift keys``: create, list and revoke API keys.

A thin translator, like the main CLI: ``create`` prints the new key alone on
stdout (so it is the last line of the output, and all of ``$(...)``), everything
else on stderr. Exit codes are the main CLI's (:data:`spamsift.cli.EXIT_CODES`): 0
success; 3 bad input (an unknown scope, an unknown key id); 6 configuration (a bad
database URL); 8 store (the database cannot be opened, migrated or written); 1
anything else spamsift raised.

The store is imported when a command runs, not with this module: mounting the
group costs the main CLI's start-up nothing (SQLAlchemy and Alembic take 0.3 s).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spamsift import exceptions as exc

if TYPE_CHECKING:
    from spamsift.feedback.keys import KeyStore

__all__ = ["keys_app"]

keys_app = typer.Typer(no_args_is_help=True, add_completion=False,
                       help="Create, list and revoke API keys (stored hashed).")

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Folder of the embedded database (spamsift.db); default: the "
    "data_dir setting. A database URL, when set, wins, as for the server.")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="Use this database instead: sqlite:///PATH or "
    "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB (default: the database_url "
    "setting, SPAMSIFT_DATABASE_URL).")]


@contextmanager
def _keys(data_dir: Path | None, database_url: str | None) -> Iterator[KeyStore]:
    from spamsift.db.database import resolve_url
    from spamsift.feedback.keys import KeyStore

    try:
        if database_url is None:
            # The server's rule (spamsift.datadir.open_stores): a database URL, when one
            # is set, wins over the data folder, so both open the same database.
            from spamsift.config import load_settings

            settings = load_settings()
            database_url = settings.database_url
            data_dir = data_dir if data_dir is not None else settings.data_dir
        with KeyStore(resolve_url(database_url, data_dir)) as store:
            yield store
    except exc.SpamsiftError as e:
        # Imported here: spamsift.cli mounts this group as it is imported.
        from spamsift.cli.common import exit_code

        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(exit_code(e)) from None


@keys_app.command()
def create(
    scope: Annotated[list[str], typer.Option(
        "--scope", help="A scope to grant: classify, read (the dashboard), feedback or admin "
        "(admin implies the others). Repeat for several.")],
    name: Annotated[str, typer.Option(help="A note on whose key it is.")] = "",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key and print it, alone, on the last line: it is not shown again."""
    with _keys(data_dir, database_url) as store:
        key_id, key = store.create(scope, name=name)
        granted = ",".join(sorted({s.strip().lower() for s in scope}))
        typer.echo(f"created API key {key_id} (scopes: {granted}"
                   f"{'; name: ' + name if name else ''}); store it now, it is not shown again:",
                   err=True)
        typer.echo(key)


@keys_app.command("list")
def list_keys(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List keys (their ids and prefixes, never the keys)."""
    with _keys(data_dir, database_url) as store:
        records = store.list()
    if as_json:
        typer.echo(json.dumps([
            {"id": r.id, "name": r.name, "prefix": r.prefix, "scopes": sorted(r.scopes),
             "created_at": r.created_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None}
            for r in records], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "name", "prefix", "scopes", "created (UTC)", "revoked (UTC)")
    for r in records:
        table.add_row(r.id, r.name, r.prefix + "…", ",".join(sorted(r.scopes)),
                      f"{r.created_at:%Y-%m-%d %H:%M}",
                      f"{r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "")
    Console().print(table if records else "no API keys")


@keys_app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (as `keys list` shows it).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    with _keys(data_dir, database_url) as store:
        changed = store.revoke(key_id)
    typer.echo(f"revoked {key_id}" if changed else f"{key_id} was already revoked")
