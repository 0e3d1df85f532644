"""``spamsift score``, ``classify`` and ``inspect``: verdicts and what the pipeline read."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from spamsift import exceptions as exc
from spamsift.cli.common import (
    _batch_auth,
    _check_n_jobs,
    _errors,
    _messages,
    _settings,
    _write_scores,
    app,
    err,
    out,
    shown,
)


@app.command()
def score(
    model: Annotated[Path | None, typer.Option(help="Model directory or registry (default: bundled).")] = None,
    index: Annotated[Path | None, typer.Option(help="Index CSV; with --split-column only its 'test' rows are scored.")] = None,
    root: Annotated[Path | None, typer.Option(help="Folder the index paths are relative to.")] = None,
    split_column: Annotated[str | None, typer.Option("--split-column")] = None,
    input_path: Annotated[Path | None, typer.Option("--input", help="Any source instead of an index: file, folder, mbox, Maildir, dataset.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="CSV to write path,score,verdict to (default: stdout).")] = None,
    n_jobs: Annotated[int, typer.Option(callback=_check_n_jobs, envvar="SPAMSIFT_N_JOBS", help="Processes for featurising.")] = -1,
    dask: Annotated[str | None, typer.Option("--dask", help="Dask scheduler address (tcp://host:8786): parse, featurise and score on its workers.")] = None,
    verify_auth: Annotated[bool, typer.Option("--verify-auth", help="Also verify DKIM, ARC and DMARC by DNS (archives' old keys no longer resolve: by default only the site's trusted Authentication-Results count).")] = False,
) -> None:
    """Batch scoring: write path,score,verdict for every message, streaming in input order."""
    from spamsift.serving.service import resolve_model
    from spamsift.training.scoring import scored

    with _errors():
        settings = _settings()
        m = resolve_model(model, settings)
        messages, report = _message_stream(index, root, split_column, input_path)
        # The cluster is reached before the output is opened: no address, no file.
        with shown.progress("scoring", None) as advance, \
                scored(m, messages, settings, n_jobs=n_jobs, dask=dask, progress=advance,
                       auth=_batch_auth(settings, verify_auth)) as rows:
            fh = open(out_path, "w", newline="") if out_path else sys.stdout
            try:
                n = _write_scores(rows, fh)
            finally:
                if out_path:
                    fh.close()
        if report.skipped_count:
            shown.warn(report.summary())
        if out_path:
            err.print(f"scored {n} messages -> {out_path}")


def _message_stream(index: Path | None, root: Path | None, split_column: str | None,
                    input_path: Path | None) -> tuple[Iterator[Any], Any]:
    """The messages of an index (its 'test' rows with a split column) or of any source,
    read lazily, and the report their skipped items go to."""
    from spamsift.ingest import IngestReport, open_source, read_index

    report = IngestReport()
    if index is not None:
        it = read_index(index, root=root or index.parent, split_column=split_column,
                        only_split="test" if split_column else None, report=report)
    elif input_path is not None:
        it = open_source(input_path, report=report)
    else:
        raise exc.InputError("score needs --index or --input")
    # Open the source now, so a missing file or bad index fails before any output.
    first = next(iter(it), None)
    return (itertools.chain([first], it) if first is not None else iter(())), report


@app.command()
def classify(
    paths: Annotated[list[Path] | None, typer.Argument(help="Message files, folders, mboxes or Maildirs; '-' or nothing for stdin.")] = None,
    model: Annotated[Path | None, typer.Option(help="Model directory or registry (default: bundled).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per message.")] = False,
    top: Annotated[int, typer.Option(help="How many clues to show.")] = 8,
) -> None:
    """Classify messages: verdict, spam probability and the clues behind it."""
    from spamsift.ingest import IngestReport
    from spamsift.mailauth import Authenticator
    from spamsift.parse.sandbox import ParseSandbox
    from spamsift.serving.service import SpamService, resolve_model

    with _errors():
        settings = _settings()
        with ParseSandbox.from_settings(settings) as sandbox:
            service = SpamService(resolve_model(model, settings), top_clues=top, sandbox=sandbox,
                                  auth=Authenticator.from_settings(settings, door=True))
            report = IngestReport()
            for raw, v in service.classify_stream(
                    _messages(paths, report, settings.limits.max_message_bytes)):
                if as_json:
                    print(json.dumps({"source": raw.source, **v.to_dict()}), flush=True)
                else:
                    colour = {"spam": "red", "unsure": "yellow", "ham": "green"}[v.verdict]
                    out.print(f"[bold {colour}]{v.verdict:6s}[/] {v.score:.6f}  {raw.source}",
                              highlight=False)
                    for clue, w in v.clues:
                        out.print(f"    {w:+8.3f}  {clue}", highlight=False, markup=False)
            if report.skipped_count:
                shown.warn(report.summary())
                if report.read == 0:
                    raise exc.InputError("no message could be read")


@app.command()
def inspect(
    paths: Annotated[list[Path] | None, typer.Argument(help="Message files, folders, mboxes or Maildirs; '-' or nothing for stdin.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per message, one per line.")] = False,
    max_chars: Annotated[int, typer.Option("--max-chars", min=0, help="Characters of each part's text shown (0: all that was extracted, itself capped by the parse limits).")] = 4000,
) -> None:
    """Show what the pipeline read from each message: the text of its bodies and attachments, its URLs, authentication and flags."""
    from spamsift.features.links import link_tokens
    from spamsift.ingest import IngestReport
    from spamsift.mailauth import Authenticator
    from spamsift.parse import parse_message
    from spamsift.parse.inspection import inspect_message
    from spamsift.parse.sandbox import ParseSandbox

    with _errors():
        settings = _settings()
        limits = settings.limits
        report = IngestReport()
        auth = Authenticator.from_settings(settings, door=True)
        with ParseSandbox.from_settings(settings) as sandbox:
            for raw in _messages(paths, report, limits.max_message_bytes):
                # Large messages parse in a worker under a deadline, as classify's do.
                msg = (sandbox.parse(raw.data, limits) if sandbox.wanted(raw.data)
                       else parse_message(raw.data, limits))
                auth.apply(msg, raw.data)  # trusted headers, then DKIM/ARC where DNS answers
                result = {"source": raw.source, **inspect_message(msg, max_chars),
                          "link_evidence": link_tokens(msg)}
                if as_json:
                    print(json.dumps(result), flush=True)
                else:
                    _show_inspection(result)
        if report.skipped_count:
            shown.warn(report.summary())
            if report.read == 0:
                raise exc.InputError("no message could be read")


def _show_inspection(r: dict[str, Any]) -> None:
    """``inspect`` for a person: one block per message."""
    from rich.markup import escape

    out.rule(escape(str(r["source"])))
    head = Table(show_header=False, box=None)
    for key in ("subject", "from", "date", "size"):
        head.add_row(f"[bold]{key}", escape(str(r[key] if r[key] is not None else "")))
    out.print(head)
    for p in r["parts"]:
        title = f"[bold]{p['source']}[/]  {escape(p['content_type'])}"
        if p["filename"]:
            title += f"  {escape(p['filename'])}"
        title += f"  ({p['chars']} chars{', cut' if p['cut'] else ''})"
        out.print(title)
        out.print(p["text"].strip(), markup=False, highlight=False, soft_wrap=True)
    if r["urls"]:
        out.print("[bold]urls")
        for u in r["urls"]:
            out.print(f"  {u}", markup=False, highlight=False)
    auth = Table("auth", "result", "source", box=None)
    for method, res in r["auth"].items():
        res = res if isinstance(res, dict) else {"result": res}
        auth.add_row(method, str(res.get("result") or "-"), str(res.get("source") or "-"))
    out.print(auth)
    if r["link_evidence"]:
        out.print("[bold]link evidence[/] " + escape(", ".join(r["link_evidence"])))
    out.print("[bold]flags[/] " + (escape(", ".join(r["flags"])) or "none"))
