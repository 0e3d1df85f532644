"""What every ``spamsift`` command shares: the Typer apps, the consoles, one table of
exit codes, error translation, settings and the readers of indexes and messages.

Exit codes (one mapping, :data:`EXIT_CODES`, which ``spamsift keys`` uses too): 0
success; 2 usage error; 3 bad input (a file, index or message that cannot be read, an
id that names nothing); 4 model error (missing, unknown format, tampered); 5 training
error; 6 configuration error; 7 corpus error; 8 feedback store (database unreachable
or failing after retries); 9 a worker process died (killed, most often for memory); 1
anything else spamsift raised.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from spamsift import exceptions as exc
from spamsift.config import Settings, load_settings
from spamsift.exceptions import NotFoundError, StoreError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Spam detection with evidence: train, evaluate, score, classify.")
models_app = typer.Typer(no_args_is_help=True, help="List and activate model versions.")
corpus_app = typer.Typer(no_args_is_help=True, help="Fetch the SpamAssassin public corpus.")
app.add_typer(models_app, name="models")
app.add_typer(corpus_app, name="corpus")
err = Console(stderr=True)
out = Console()
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (exc.ConfigError, 6),
    (exc.CorpusError, 7),
    (exc.InputError, 3),
    # An id the caller gave that names nothing (a key, an event): the caller's input is
    # wrong, not the store, which answered; README's "unknown key", HTTP's 404.
    (NotFoundError, 3),
    (exc.ModelError, 4),
    (exc.TrainingError, 5),
    (StoreError, 8),
    (exc.WorkerError, 9),
    (exc.SpamsiftError, 1),
]


def exit_code(error: BaseException) -> int:
    """The exit code for ``error`` (any :class:`~spamsift.exceptions.SpamsiftError`)."""
    return next(c for t, c in EXIT_CODES if isinstance(error, t))


class SplitHow(StrEnum):
    column = "column"
    random = "random"
    time = "time"


class SearchKind(StrEnum):
    none = "none"
    grid = "grid"
    random = "random"


class LinearSolver(StrEnum):
    liblinear = "liblinear"
    lbfgs = "lbfgs"


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except exc.SpamsiftError as e:
        err.print(f"[red]error:[/red] {e}", highlight=False, markup=True)
        raise typer.Exit(exit_code(e)) from None


def _check_model(value: str | None) -> str | None:
    if value is not None:
        from spamsift.models.classifier import model_members

        try:
            model_members(value)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
    return value


def _check_n_jobs(value: int) -> int:
    if value == 0:
        raise typer.BadParameter("expected a number of processes (1, 2, ...) or -1 for "
                                 "every core (-2 all but one), got 0")
    return value


def _settings(**kw: Any) -> Settings:
    return load_settings(**kw)


def _batch_auth(settings: Settings, verify: bool) -> Any:
    """What fills a batch job's authentication results: the site's trusted headers,
    and DNS checks only with ``--verify-auth`` (or ``auth_verify = "always"``)."""
    from spamsift.mailauth import Authenticator

    if verify:
        settings = settings.model_copy(update={"auth_verify": "always"})
    return Authenticator.from_settings(settings, door=False)


class _Shown:
    """The :class:`~spamsift.training.runs.Reporter` of the terminal: Rich progress bars
    and spinners on stderr (when it is a terminal), warnings in yellow."""

    @contextmanager
    def progress(self, what: str, total: int | None) -> Iterator[Any]:
        p = Progress(TextColumn(f"[bold]{what}"), BarColumn(), MofNCompleteColumn(),
                     TimeElapsedColumn(), console=err, transient=True,
                     disable=not err.is_terminal)
        task = p.add_task(what, total=total)
        with p:
            yield lambda n: p.advance(task, n)

    def busy(self, what: str) -> Any:
        return err.status(what)

    def warn(self, text: str) -> None:
        err.print(f"[yellow]{text}[/yellow]", highlight=False)


#: What long jobs report through.
shown = _Shown()


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
        return
    t = Table(show_header=False, box=None)
    for k, v in summary.items():
        if isinstance(v, dict):
            v = ", ".join(f"{kk}={_fmt(vv)}" for kk, vv in v.items())
        t.add_row(f"[bold]{k}", _fmt(v))
    out.print(t)


def _write_scores(rows: Iterable[Any], fh: TextIO) -> int:
    """``path,score,verdict`` of scored rows, as ``score`` and ``replay`` write them;
    returns how many rows."""
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["path", "score", "verdict"])
    n = 0
    for r in rows:
        w.writerow([r.source, repr(r.score), r.verdict])
        n += 1
    return n


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _messages(paths: list[Path] | None, report: Any, max_bytes: int) -> Iterator[Any]:
    """The messages of ``paths`` (files, folders, mboxes, Maildirs), or of stdin for
    none or '-', as ``classify``, ``inspect`` and ``learn`` take them; each cut at
    ``max_bytes`` (``settings.limits.max_message_bytes``: the one cap every door uses)."""
    from spamsift.ingest import open_source, read_stdin

    cap = max_bytes
    if not paths or [str(p) for p in paths] == ["-"]:
        yield from read_stdin(max_bytes=cap, report=report)
        return
    for p in paths:
        yield from open_source(p, max_bytes=cap, report=report)
