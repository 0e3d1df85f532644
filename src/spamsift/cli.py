"""The ``spamsift`` command: a thin translator from arguments to jobs and back.

Exit codes (one mapping, :data:`EXIT_CODES`, which ``spamsift keys`` uses too): 0
success; 2 usage error; 3 bad input (a file, index or message that cannot be read, an
id that names nothing); 4 model error (missing, unknown format, tampered); 5 training
error; 6 configuration error; 7 corpus error; 8 feedback store (database unreachable
or failing after retries); 1 anything else spamsift raised.
"""

from __future__ import annotations

import csv
import itertools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

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


def _add_keys_app() -> None:
    from spamsift.feedback.cli import keys_app

    app.add_typer(keys_app, name="keys", help="Create, list and revoke API keys.")


_add_keys_app()
err = Console(stderr=True)
out = Console()

#: Error class -> exit code, first match wins (so a subclass comes before its base).
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


# Option values checked as the command line is read, so a bad one is a usage error
# (exit 2) naming the option, not a ValueError from deep in the job after the mail is read.
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


def _progress(total: int | None, what: str) -> tuple[Progress, Any]:
    p = Progress(TextColumn(f"[bold]{what}"), BarColumn(), MofNCompleteColumn(),
                 TimeElapsedColumn(), console=err, transient=True,
                 disable=not err.is_terminal)
    task = p.add_task(what, total=total)
    return p, lambda n: p.advance(task, n)


def _settings(**kw: Any) -> Settings:
    return load_settings(**kw)


def _batch_auth(settings: Settings, verify: bool) -> Any:
    """What fills a batch job's authentication results: the site's trusted headers,
    and DNS checks only with ``--verify-auth`` (or ``auth_verify = "always"``)."""
    from spamsift.mailauth import Authenticator

    if verify:
        settings = settings.model_copy(update={"auth_verify": "always"})
    return Authenticator.from_settings(settings, door=False)


def _read_index(index: Path, root: Path | None, split_column: str | None,
                only_split: str | None = None) -> tuple[list[Any], Any]:
    from spamsift.ingest import IngestReport, read_index

    report = IngestReport()
    rows = list(read_index(index, root=root or index.parent, split_column=split_column,
                           only_split=only_split, report=report))
    if report.skipped_count:
        err.print(f"[yellow]{report.summary()}[/yellow]", highlight=False)
    return rows, report


def _featurizer(settings: Settings, params: dict[str, Any] | None = None) -> Any:
    from spamsift.features.featurizer import MessageFeaturizer
    from spamsift.models.classifier import model_members
    from spamsift.training.trainer import BYTE_FEATURIZER, DEFAULT_PARAMS

    # The byte n-gram block costs featurising time: made only for a model that reads it.
    members = model_members(str((params or DEFAULT_PARAMS).get("model", "nb+svm")))
    extra = BYTE_FEATURIZER if "bytes" in members else {}
    return MessageFeaturizer(**extra, site_evidence=settings.site_evidence,
                             limits=settings.limits)


def _dataset(rows: list[Any], labelled: bool, n_jobs: int, featurizer: Any,
             auth: Any = None) -> Any:
    from spamsift.training.jobs import load_dataset

    prog, advance = _progress(len(rows), "reading and featurising")
    with prog:
        return load_dataset(rows, featurizer, n_jobs=n_jobs, progress=advance,
                            labelled=labelled, auth=auth)


@app.command()
def train(
    index: Annotated[Path, typer.Option(help="Labelled index CSV (path,label[,split columns]).")],
    model_out: Annotated[Path, typer.Option("--model-out", help="Directory to write the model to.")],
    root: Annotated[Path | None, typer.Option(help="Folder the index paths are relative to (default: the index's folder).")] = None,
    split_column: Annotated[str | None, typer.Option("--split-column", help="Index column whose 'train' rows are trained on.")] = None,
    split: Annotated[SplitHow | None, typer.Option(help="Without --split-column: 'random' (stratified 80/20) or 'time' (oldest 80% by Date).")] = None,
    search: Annotated[SearchKind, typer.Option(help="Hyperparameter search on the training part.")] = SearchKind.none,
    n_iter: Annotated[int, typer.Option(min=1, help="Candidates for --search random.")] = 12,
    model: Annotated[str | None, typer.Option(callback=_check_model, help="Members to stack: 'nb+svm' (default), 'svm', 'lr', 'nb', 'ensemble', or others joined by '+'.")] = None,
    target_fpr: Annotated[float | None, typer.Option(help="False-positive rate the spam cut-off is chosen for (default 0.001).")] = None,
    report: Annotated[Path | None, typer.Option(help="Also evaluate on the test rows and write metrics.json and report.html here.")] = None,
    learning_curve: Annotated[bool, typer.Option(help="Compute a learning curve for the report.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --model-out.")] = True,
    n_jobs: Annotated[int, typer.Option(callback=_check_n_jobs, help="Processes for featurising (-1: every core).")] = -1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    dask: Annotated[str | None, typer.Option("--dask", help="Dask scheduler address (tcp://host:8786): featurise, count and search on its workers.")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Read the training rows as a stream: the whole recipe on the first --seed-size distinct rows, then Naive Bayes and reputation counts learned chunk by chunk (needs --split-column).")] = False,
    seed_size: Annotated[int | None, typer.Option("--seed-size", min=10, help="With --stream: distinct training rows the whole recipe is fitted on (default 2000).")] = None,
    tune: Annotated[bool, typer.Option(help="Choose the SVM's C and the structure and reputation weights on the training rows' own inner folds (at most 2 minutes; --no-tune keeps the defaults).")] = True,
    linear_solver: Annotated[LinearSolver, typer.Option("--linear-solver", help="Fit the SVM and logistic-regression members with liblinear (default) or with L-BFGS on block-summed loss and gradient (on the workers with --dask).")] = LinearSolver.liblinear,
    verify_auth: Annotated[bool, typer.Option("--verify-auth", help="Also verify DKIM, ARC and DMARC by DNS (archives' old keys no longer resolve: by default only the site's trusted Authentication-Results count).")] = False,
) -> None:
    """Train a model on the 'train' rows of an index and save it."""
    from spamsift.models.persistence import save_model
    from spamsift.training.jobs import evaluate_job, train_job
    from spamsift.training.trainer import DEFAULT_PARAMS, TrainOptions

    with _errors():
        settings = _settings(target_fpr=target_fpr)
        auth = _batch_auth(settings, verify_auth)
        how = (SplitHow.column if split_column else (split or SplitHow.random)).value
        params = dict(DEFAULT_PARAMS)
        if model:
            params["model"] = model
        params["tune"] = tune
        if linear_solver is not LinearSolver.liblinear:
            params["linear_solver"] = linear_solver.value
        opts = TrainOptions(search=None if search is SearchKind.none else search.value,
                            n_iter=n_iter, learning_curve=learning_curve and report is not None,
                            params=params)
        if seed_size is not None and not stream:
            raise typer.BadParameter("--seed-size goes with --stream", param_hint="--seed-size")
        if stream:
            if split_column is None or dask is not None or search is not SearchKind.none:
                raise typer.BadParameter("--stream needs --split-column and does not combine "
                                         "with --dask or --search", param_hint="--stream")
            fitted, details, te, ds = _train_streaming(index, root, split_column, settings,
                                                       opts, seed_size, n_jobs,
                                                       with_test=report is not None, auth=auth)
        elif dask is None:
            rows, _ = _read_index(index, root, split_column)
            ds = _dataset(rows, labelled=True, n_jobs=n_jobs,
                          featurizer=_featurizer(settings, opts.params), auth=auth)
            with err.status("training"):
                fitted, details, te = train_job(ds, how, settings, opts)
        else:
            fitted, details, te, ds = _train_on_cluster(dask, index, root, split_column, how,
                                                        settings, opts, auth)
        summary: dict[str, Any] = {"model_out": str(model_out), "n_train": details["n_train"],
                                   "duplicates_dropped": details["duplicates_dropped"],
                                   "cutoffs": details["cutoffs"],
                                   "fit_diagnosis": details["fit_diagnosis"]}
        if stream:
            summary.update(n_seed=details["n_seed"], n_streamed=details["n_streamed"])
        if "search" in details:
            summary["search_best"] = details["search"]["best_params"]
        if "tuning" in details:
            summary["tuned"] = details["tuning"]["chosen"]
        if report is not None and len(te):
            test = ds.rows(te)
            metrics = evaluate_job(fitted, test, report, details)
            fitted.info["metrics"] = _headline(metrics)
            summary["test_metrics"] = _headline(metrics)
            summary["report"] = str(report / "report.html")
        save_model(fitted, model_out, overwrite=overwrite)
        _print_summary(summary, as_json)


def _train_on_cluster(address: str, index: Path, root: Path | None, split_column: str | None,
                      how: str, settings: Settings, opts: Any, auth: Any = None
                      ) -> tuple[Any, ...]:
    from spamsift.ingest import IngestReport, read_index
    from spamsift.training.cluster import connect, load_dataset_on_cluster, train_job_on_cluster

    report = IngestReport()
    rows = read_index(index, root=root or index.parent, split_column=split_column,
                      report=report)
    with connect(address, settings.dask_timeout) as client:
        prog, advance = _progress(None, "featurising on the cluster")
        with prog:
            ds, parts = load_dataset_on_cluster(client, rows, _featurizer(settings, opts.params),
                                                report, progress=advance, auth=auth)
        if report.skipped_count:
            err.print(f"[yellow]{report.summary()}[/yellow]", highlight=False)
        with err.status("training"):
            fitted, details, te = train_job_on_cluster(client, ds, parts, how, settings, opts)
    return fitted, details, te, ds


def _train_streaming(index: Path, root: Path | None, split_column: str, settings: Settings,
                     opts: Any, seed_size: int | None, n_jobs: int, with_test: bool,
                     auth: Any = None) -> tuple[Any, ...]:
    """``train --stream``: the test rows' duplicate keys first (so no training row repeats
    one, as without --stream), then the training rows read once, lazily."""
    import numpy as np

    from spamsift.ingest import IngestReport, read_index
    from spamsift.training.streaming import SEED_SIZE, SeenKeys, train_stream

    featurizer = _featurizer(settings, opts.params)
    where = root or index.parent
    seen = SeenKeys()
    n_test = 0
    for m in read_index(index, root=where, split_column=split_column, only_split="test",
                        report=IngestReport()):
        seen.add_message(featurizer, m.data)
        n_test += 1
    report = IngestReport()
    rows = read_index(index, root=where, split_column=split_column, only_split="train",
                      report=report)
    info = {"training_data": {"split": "column", "n_test": n_test}}
    prog, advance = _progress(None, "training on the stream")
    with prog:
        fitted, details = train_stream(rows, featurizer, settings, opts,
                                       seed_size=seed_size or SEED_SIZE, n_jobs=n_jobs,
                                       seen=seen, report=report, info=info, progress=advance,
                                       auth=auth)
    if report.skipped_count:
        err.print(f"[yellow]{report.summary()}[/yellow]", highlight=False)
    ds = None
    if with_test:  # the report needs the test rows' matrix: the test split, in memory
        test_rows, _ = _read_index(index, root, split_column, only_split="test")
        ds = _dataset(test_rows, labelled=True, n_jobs=n_jobs, featurizer=fitted.featurizer,
                      auth=auth)
    return fitted, details, np.arange(n_test if ds is not None else 0), ds


def _headline(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "one_minus_roca_pct", "roc_auc", "pr_auc", "accuracy", "precision", "recall",
            "f1", "fpr", "fnr", "fnr_at_fpr_1pct", "fnr_at_fpr_0_1pct", "brier", "ece", "tp", "fp",
            "tn", "fn")
    return {k: m.get(k) for k in keys}


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


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


@app.command()
def evaluate(
    index: Annotated[Path, typer.Option(help="Labelled index CSV.")],
    model: Annotated[Path, typer.Option(help="Model directory or registry.")],
    report: Annotated[Path, typer.Option(help="Folder for metrics.json and report.html.")],
    root: Annotated[Path | None, typer.Option(help="Folder the index paths are relative to.")] = None,
    split_column: Annotated[str | None, typer.Option("--split-column", help="Evaluate the rows whose value is 'test' (default: every row).")] = None,
    n_jobs: Annotated[int, typer.Option(callback=_check_n_jobs, help="Processes for featurising.")] = -1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    verify_auth: Annotated[bool, typer.Option("--verify-auth", help="Also verify DKIM, ARC and DMARC by DNS (archives' old keys no longer resolve: by default only the site's trusted Authentication-Results count).")] = False,
) -> None:
    """Evaluate a model on the test rows of an index; write metrics.json and report.html."""
    from spamsift.serving.service import resolve_model
    from spamsift.training.jobs import evaluate_job

    with _errors():
        m = resolve_model(model)
        rows, _ = _read_index(index, root, split_column,
                              only_split="test" if split_column else None)
        ds = _dataset(rows, labelled=True, n_jobs=n_jobs, featurizer=m.featurizer,
                      auth=_batch_auth(_settings(), verify_auth))
        datas = {r.source: r.data for r in rows}
        metrics = evaluate_job(m, ds, report, datas=datas)
        _print_summary({"report": str(report / "report.html"), **_headline(metrics)}, as_json)


@app.command()
def score(
    model: Annotated[Path | None, typer.Option(help="Model directory or registry (default: bundled).")] = None,
    index: Annotated[Path | None, typer.Option(help="Index CSV; with --split-column only its 'test' rows are scored.")] = None,
    root: Annotated[Path | None, typer.Option(help="Folder the index paths are relative to.")] = None,
    split_column: Annotated[str | None, typer.Option("--split-column")] = None,
    input_path: Annotated[Path | None, typer.Option("--input", help="Any source instead of an index: file, folder, mbox, Maildir, dataset.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="CSV to write path,score,verdict to (default: stdout).")] = None,
    n_jobs: Annotated[int, typer.Option(callback=_check_n_jobs, help="Processes for featurising.")] = -1,
    dask: Annotated[str | None, typer.Option("--dask", help="Dask scheduler address (tcp://host:8786): parse, featurise and score on its workers.")] = None,
    verify_auth: Annotated[bool, typer.Option("--verify-auth", help="Also verify DKIM, ARC and DMARC by DNS (archives' old keys no longer resolve: by default only the site's trusted Authentication-Results count).")] = False,
) -> None:
    """Batch scoring: write path,score,verdict for every message, streaming in input order."""
    from spamsift.serving.service import resolve_model

    with _errors():
        settings = _settings()
        m = resolve_model(model, settings)
        messages, report = _message_stream(index, root, split_column, input_path)
        n = 0
        prog, advance = _progress(None, "scoring")
        # The cluster is reached before the output is opened: no address, no file.
        with prog, _scored(m, messages, n_jobs, dask, settings, advance,
                           _batch_auth(settings, verify_auth)) as scored:
            fh = open(out_path, "w", newline="") if out_path else sys.stdout
            try:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(["path", "score", "verdict"])
                for r in scored:
                    w.writerow([r.source, repr(r.score), r.verdict])
                    n += 1
            finally:
                if out_path:
                    fh.close()
        if report.skipped_count:
            err.print(f"[yellow]{report.summary()}[/yellow]", highlight=False)
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


@contextmanager
def _scored(model: Any, messages: Iterator[Any], n_jobs: int, dask: str | None,
            settings: Settings, progress: Any, auth: Any = None) -> Iterator[Iterator[Any]]:
    """Scored rows in input order: local processes, or a Dask cluster's workers."""
    if dask is None:
        from spamsift.parse.sandbox import ParseSandbox
        from spamsift.training.scoring import score_stream

        with ParseSandbox.from_settings(settings) as sandbox:
            yield score_stream(model, messages, n_jobs=n_jobs, progress=progress,
                               sandbox=sandbox, auth=auth)
        return
    from spamsift.training.cluster import connect, score_on_cluster

    with connect(dask, settings.dask_timeout) as client:
        yield score_on_cluster(client, model, messages, progress=progress, auth=auth)


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
            for raw, v in service.classify_stream(_messages(paths, report)):
                if as_json:
                    print(json.dumps({"source": raw.source, **v.to_dict()}), flush=True)
                else:
                    colour = {"spam": "red", "unsure": "yellow", "ham": "green"}[v.verdict]
                    out.print(f"[bold {colour}]{v.verdict:6s}[/] {v.score:.6f}  {raw.source}",
                              highlight=False)
                    for clue, w in v.clues:
                        out.print(f"    {w:+8.3f}  {clue}", highlight=False, markup=False)
            if report.skipped_count:
                err.print(f"[yellow]{report.summary()}[/yellow]", highlight=False)
                if report.read == 0:
                    raise exc.InputError("no message could be read")


def _messages(paths: list[Path] | None, report: Any) -> Iterator[Any]:
    """The messages of ``paths`` (files, folders, mboxes, Maildirs), or of stdin for
    none or '-', as ``classify`` and ``inspect`` take them."""
    from spamsift.ingest import open_source, read_stdin

    if not paths or [str(p) for p in paths] == ["-"]:
        yield from read_stdin(report=report)
        return
    for p in paths:
        yield from open_source(p, report=report)


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
            for raw in _messages(paths, report):
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
            err.print(f"[yellow]{report.summary()}[/yellow]", highlight=False)
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


@app.command()
def replay(
    index: Annotated[Path, typer.Option(help="Labelled index CSV.")],
    out_path: Annotated[Path, typer.Option("--out", help="CSV to write path,score,verdict to.")],
    root: Annotated[Path | None, typer.Option(help="Folder the index paths are relative to.")] = None,
    split_column: Annotated[str | None, typer.Option("--split-column", help="'train' rows are trained on first, 'test' rows replayed (default: replay every row).")] = None,
    from_bundled: Annotated[bool, typer.Option("--from-bundled", help="Start from the bundled model; 'train' rows are then learned as feedback.")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where the replay's feedback store lives (default: a temporary folder).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write replay.json (metrics and the curve over time) here.")] = None,
    n_jobs: Annotated[int, typer.Option(callback=_check_n_jobs, help="Processes for featurising the training rows.")] = -1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay: classify each test message in date order, then learn its true label."""
    import tempfile

    from spamsift.db.database import default_url
    from spamsift.feedback import FeedbackStore
    from spamsift.models.classifier import SpamClassifier
    from spamsift.models.spam_model import SpamModel
    from spamsift.serving.service import resolve_model
    from spamsift.training.jobs import load_dataset, train_job
    from spamsift.training.online import LearningFeedback
    from spamsift.training.replay import replay as run_replay
    from spamsift.training.trainer import TrainOptions

    with _errors(), tempfile.TemporaryDirectory() as tmp:
        settings = _settings()
        model: SpamModel
        train_rows, test_rows = _replay_rows(index, root, split_column)
        store = FeedbackStore(default_url(data_dir or Path(tmp)))
        try:
            if from_bundled:
                model = resolve_model(None)
            elif train_rows:
                ds = load_dataset(train_rows, _featurizer(settings), n_jobs=n_jobs)
                with err.status("training on the 'train' rows"):
                    trained = train_job(ds, "column", settings,
                                        TrainOptions(learning_curve=False))
                model = trained[0]
            else:
                # Nothing to start from: Naive Bayes with empty counts; the untrained
                # cut-offs only name verdicts, the replay's score is what counts.
                featurizer = _featurizer(settings)
                model = SpamModel(featurizer, SpamClassifier.empty(
                    token_bits=featurizer.token_bits,
                    n_structure=featurizer.layout.n_structure,
                    reputation_bits=featurizer.reputation_bits,
                    byte_bits=featurizer.byte_bits), 0.9, 0.5)
            live = model
            feedback = LearningFeedback(store, lambda: live)
            if from_bundled and train_rows:
                with err.status("learning the 'train' rows as feedback"):
                    for r in train_rows:
                        feedback.add_feedback(r.data, label=r.label, user="replay",
                                              source="replay")
            prog, advance = _progress(len(test_rows), "replaying")
            with prog:
                result = run_replay(model, test_rows, feedback, progress=advance)
        finally:
            store.close()
        with open(out_path, "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["path", "score", "verdict"])
            for r in result.rows:
                w.writerow([r.source, repr(r.score), r.verdict])
        summary = {"out": str(out_path), "replayed": len(result.rows),
                   "learned": result.learned, **_headline(result.metrics)}
        if report is not None:
            report.mkdir(parents=True, exist_ok=True)
            (report / "replay.json").write_text(json.dumps(
                {"metrics": result.metrics, "curve": result.curve}, indent=2, default=float))
            summary["report"] = str(report / "replay.json")
        _print_summary(summary, as_json)
        if not as_json:
            t = Table("messages", "(1-ROCA)%", "FPR", "FNR", title="over time")
            for p in result.curve:
                t.add_row(f"{p['from']}-{p['to']}", _fmt(p.get("one_minus_roca_pct", "–")),
                          _fmt(p["fpr"]), _fmt(p["fnr"]))
            out.print(t)


def _replay_rows(index: Path, root: Path | None, split_column: str | None
                 ) -> tuple[list[Any], Any]:
    """The rows to train on (in memory: training needs the matrix) and the rows to replay
    (held as paths and read again one at a time, so memory does not grow with them)."""
    from spamsift.ingest import IngestReport, read_index
    from spamsift.training.replay import IndexMessages

    report = IngestReport()
    train_rows: list[Any] = []

    def replayed() -> Iterator[Any]:
        for r in read_index(index, root=root or index.parent, split_column=split_column,
                            report=report):
            if split_column is None or r.split == "test":
                yield r
            elif r.split == "train":
                train_rows.append(r)

    test_rows = IndexMessages(replayed(), root or index.parent)
    if report.skipped_count:
        err.print(f"[yellow]{report.summary()}[/yellow]", highlight=False)
    return train_rows, test_rows


@app.command()
def retrain(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="The server's data folder: model registry and feedback store (default: SPAMSIFT_DATA_DIR or ./data).")] = None,
    index: Annotated[Path | None, typer.Option(help="Base corpus index CSV (default: index.csv in the corpus_root setting's folder, if any; else feedback only).")] = None,
    root: Annotated[Path | None, typer.Option(help="Folder the index paths are relative to (default: the index's folder).")] = None,
    split_column: Annotated[str | None, typer.Option("--split-column", help="Train on the index rows whose value here is 'train' (default: every row).")] = None,
    force: Annotated[bool, typer.Option(help="Activate the new model even if it compares worse (admins; reported as 'forced').")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """Retrain on the base corpus plus all feedback; activate the result only if it is not worse.

    Exits 0 whether the new model was promoted or kept back; the decision and the
    reason are printed and written to DATA_DIR/retrain-reports/VERSION.json.
    """
    from spamsift.training.retrain import default_corpus
    from spamsift.training.retrain import retrain as run_retrain

    with _errors():
        settings = _settings(data_dir=data_dir)
        if index is None:
            index, default_root = default_corpus(settings)
            root = root or default_root
        report = run_retrain(settings.data_dir, settings, corpus_index=index, corpus_root=root,
                             split_column=split_column, force=force,
                             progress=lambda line: err.print(line, highlight=False,
                                                             markup=False))
        if as_json:
            print(json.dumps(report.to_dict(), indent=2, default=str))
            return
        summary: dict[str, Any] = {
            "decision": report.decision, "reason": report.reason,
            "version": report.version, "active": report.active_version,
            "previous": report.previous_version, "feedback_until": report.feedback_until,
            "data": {k: report.data[k] for k in ("n_train", "n_held_back", "feedback_rows",
                                                 "feedback_after_watermark")},
        }
        for who, m in (("challenger", report.challenger), ("served model", report.champion)):
            if m is not None:
                summary[who] = {k: m[k] for k in ("fpr", "fnr", "fnr_at_target",
                                                  "one_minus_roca_pct")}
        summary["report"] = report.report_path
        _print_summary(summary, as_json=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8025,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Models, feedback and keys live here (default: SPAMSIFT_DATA_DIR or ./data). A fresh folder starts with the bundled model.")] = None,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the REST API (classify, feedback, models, health, metrics)."""
    from spamsift.datadir import open_stores
    from spamsift.serving.server import run

    with _errors():
        settings = _settings(data_dir=data_dir)
        run(host, port, settings.data_dir, settings, workers=workers, stores=open_stores,
            log_level=log_level)


@app.command()
def spamd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (spamd's is 783).")] = 783,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="As for `serve`: models and the feedback store (default: SPAMSIFT_DATA_DIR or ./data).")] = None,
    max_size: Annotated[int | None, typer.Option("--max-size", help="Largest message in bytes; larger ones are answered EX_TOOBIG (default: the parser's cap, 10 MiB).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds a client has to send its request.")] = 30.0,
    allow_tell: Annotated[bool, typer.Option("--allow-tell/--no-tell", help="Take TELL (spamc -L: learn, forget) from loopback clients and --allowed-ips; off by default, as in SpamAssassin.")] = False,
    allowed_ips: Annotated[list[str] | None, typer.Option("--allowed-ips", "-A", help="With --allow-tell, more clients that may TELL: IP addresses or CIDR networks, comma-separated or repeated (e.g. 10.0.0.0/8,2001:db8::/32). Scanning is open to any client that reaches the port.")] = None,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run a spamd-compatible daemon (SpamAssassin's spamc/spamd protocol)."""
    from spamsift.datadir import open_stores
    from spamsift.networks import parse_networks
    from spamsift.serving.spamd.server import SpamdOptions, run

    with _errors():
        settings = _settings(data_dir=data_dir)
        networks = parse_networks(allowed_ips or (), name="--allowed-ips")
        options = SpamdOptions(max_size=settings.limits.max_message_bytes if max_size is None
                               else max_size, timeout=timeout, allow_tell=allow_tell,
                               allowed_ips=networks)
        run(host, port, settings.data_dir, settings, options=options, stores=open_stores,
            log_level=log_level)


@app.command()
def milter(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (the MTA's smtpd_milters / INPUT_MAIL_FILTER names it).")] = 11332,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="As for `serve`: models and the feedback store (default: SPAMSIFT_DATA_DIR or ./data).")] = None,
    reject_score: Annotated[float | None, typer.Option("--reject-score", help="Reject (550 5.7.1) spam whose score is at or above this (5.0 is the spam cut-off; default: never).")] = None,
    quarantine_score: Annotated[float | None, typer.Option("--quarantine-score", help="Quarantine (Postfix: hold queue) spam at or above this score (default: never).")] = None,
    max_size: Annotated[int | None, typer.Option("--max-size", help="Bytes of a message scanned; the rest is not (default: the parser's cap, 10 MiB).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds the MTA waits for an answer.")] = 60.0,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run a milter for Postfix and Sendmail: mark, quarantine or reject spam."""
    from spamsift.datadir import open_stores
    from spamsift.serving.milter.policy import MilterOptions

    with _errors():
        try:
            from spamsift.serving.milter.server import run
        except ImportError as e:
            raise exc.ConfigError("the milter needs pymilter: pip install 'spamsift[milter]' "
                                  f"(it builds against libmilter-dev) ({e})") from None
        settings = _settings(data_dir=data_dir)
        options = MilterOptions(reject_score=reject_score, quarantine_score=quarantine_score,
                                max_size=settings.limits.max_message_bytes if max_size is None
                                else max_size, timeout=timeout)
        run(host, port, settings.data_dir, settings, options=options, stores=open_stores,
            log_level=log_level)


@app.command()
def learn(
    paths: Annotated[list[Path] | None, typer.Argument(help="Message files, folders, mboxes or Maildirs; '-' or nothing for one message on stdin.")] = None,
    spam: Annotated[bool, typer.Option("--spam", help="The user says spam (moved it into Junk).")] = False,
    ham: Annotated[bool, typer.Option("--ham", help="The user says not spam (moved it out of Junk).")] = False,
    forget: Annotated[bool, typer.Option("--forget", help="Withdraw this user's votes on it (other users' stand).")] = False,
    user: Annotated[str | None, typer.Option(help="Whose vote it is (default: the Unix user). Each user's vote counts once.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Record in this data folder's feedback store, as `serve`/`spamd` use it (default: SPAMSIFT_DATA_DIR or ./data).")] = None,
    api: Annotated[str | None, typer.Option("--api", envvar="SPAMSIFT_API_URL", help="Send to a running `spamsift serve` at this base URL instead (moves its model at once).")] = None,
    key: Annotated[str | None, typer.Option("--key", envvar="SPAMSIFT_API_KEY", help="With --api: a key with the 'feedback' scope.")] = None,
    source: Annotated[str, typer.Option(help="Through what the vote came, for the audit trail (the Dovecot scripts say 'imap').")] = "cli",
) -> None:
    """Learn messages as one user's spam or ham, or forget that user's votes (as spamc -L)."""
    import getpass

    from spamsift.ingest import IngestReport, open_source, read_stdin
    from spamsift.serving.mailclients import ApiVotes, StoreVotes

    actions = [a for a, on in (("spam", spam), ("ham", ham), ("forget", forget)) if on]
    if len(actions) != 1:
        raise typer.BadParameter("give exactly one of --spam, --ham, --forget")
    if api is not None and data_dir is not None:
        raise typer.BadParameter("give --data-dir or --api, not both")
    with _errors():
        who = user if user is not None else getpass.getuser()
        settings = _settings(data_dir=data_dir)
        votes = (ApiVotes(api, key or "") if api is not None
                 else StoreVotes(settings.data_dir, settings))
        report = IngestReport()
        failed = seen = 0
        with votes:
            cap = settings.limits.max_message_bytes  # what the servers would scan
            stream = (read_stdin(max_bytes=cap, report=report)
                      if not paths or [str(p) for p in paths] == ["-"]
                      else (m for p in paths for m in open_source(p, max_bytes=cap,
                                                                  report=report)))
            for msg in stream:
                seen += 1
                if msg.meta.get("truncated"):
                    failed += 1
                    err.print(f"error: {msg.source}: over the size cap, not learned (it would "
                              "be learned cut short)", highlight=False, markup=False)
                    continue
                try:
                    told = votes.tell(msg.data, actions[0], user=who, source=source)
                except exc.InputError as e:
                    failed += 1
                    err.print(f"error: {msg.source}: {e}", highlight=False, markup=False)
                    continue
                print(f"{msg.source}: {told.describe()}", flush=True)  # one unwrapped line
        if report.skipped_count:
            err.print(report.summary(), highlight=False, markup=False)
        if failed or report.skipped_count or not seen:
            raise exc.InputError("no message to learn" if not seen and not report.skipped_count
                                 else f"{failed + report.skipped_count} message(s) not learned")


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


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the model, report and scores.")] = Path("out"),
    corpus: Annotated[Path | None, typer.Option(help="Corpus folder with index.csv (default: the shared SpamAssassin corpus).")] = None,
    split_column: Annotated[str, typer.Option("--split-column")] = "random_split",
) -> None:
    """The main job: train on the corpus, evaluate, write the report, classify a few messages."""
    with _errors():
        settings = _settings(corpus_root=corpus)
        root = settings.corpus_root
        if root is None:
            raise exc.CorpusError("no corpus found: pass --corpus, set SPAMSIFT_CORPUS_ROOT, or "
                                  "fetch one with `spamsift corpus download --dest DIR`")
        model_dir = out_dir / "model"
        report_dir = out_dir / "report"
        train(index=root / "index.csv", model_out=model_dir, root=root,
              split_column=split_column, split=None, search=SearchKind.none, n_iter=12,
              model=None, target_fpr=None, report=report_dir, learning_curve=True,
              overwrite=True, n_jobs=-1, as_json=False)
        rows, _ = _read_index(root / "index.csv", root, split_column, only_split="test")
        sample = rows[:2] + rows[-2:]
        from spamsift.serving.service import SpamService, resolve_model

        service = SpamService(resolve_model(model_dir), top_clues=5)
        out.rule("a few test messages")
        for raw, v in service.classify_stream(sample):
            out.print(f"[bold]{v.verdict:6s}[/] {v.score:.4f} (true: {raw.label})  {raw.source}",
                      highlight=False)
            for clue, w in v.clues:
                out.print(f"    {w:+8.3f}  {clue}", highlight=False, markup=False)
        out.print(f"\nreport: {report_dir / 'report.html'}")


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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
