"""``spamsift train``, ``evaluate``, ``replay``, ``retrain`` and ``demo``: fitting and measuring models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from spamsift import exceptions as exc
from spamsift.cli.common import (
    LinearSolver,
    SearchKind,
    SplitHow,
    _batch_auth,
    _check_model,
    _check_n_jobs,
    _errors,
    _fmt,
    _print_summary,
    _settings,
    _write_scores,
    app,
    err,
    out,
    shown,
)


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
    n_jobs: Annotated[int, typer.Option(callback=_check_n_jobs, envvar="SPAMSIFT_N_JOBS", help="Processes for featurising (-1: every core).")] = -1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    dask: Annotated[str | None, typer.Option("--dask", help="Dask scheduler address (tcp://host:8786): featurise, count and search on its workers.")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Read the training rows as a stream: the whole recipe on the first --seed-size distinct rows, then Naive Bayes and reputation counts learned chunk by chunk (needs --split-column).")] = False,
    seed_size: Annotated[int | None, typer.Option("--seed-size", min=10, help="With --stream: distinct training rows the whole recipe is fitted on (default 2000).")] = None,
    tune: Annotated[bool, typer.Option(help="Choose the SVM's C and the structure and reputation weights on the training rows' own inner folds (at most 2 minutes; --no-tune keeps the defaults).")] = True,
    linear_solver: Annotated[LinearSolver, typer.Option("--linear-solver", help="Fit the SVM and logistic-regression members with liblinear (default) or with L-BFGS on block-summed loss and gradient (on the workers with --dask).")] = LinearSolver.liblinear,
    verify_auth: Annotated[bool, typer.Option("--verify-auth", help="Also verify DKIM, ARC and DMARC by DNS (archives' old keys no longer resolve: by default only the site's trusted Authentication-Results count).")] = False,
) -> None:
    """Train a model on the 'train' rows of an index and save it."""
    from spamsift.training.runs import TrainRun, train_index
    from spamsift.training.trainer import DEFAULT_PARAMS, TrainOptions

    if seed_size is not None and not stream:
        raise typer.BadParameter("--seed-size goes with --stream", param_hint="--seed-size")
    if stream and (split_column is None or dask is not None or search is not SearchKind.none):
        raise typer.BadParameter("--stream needs --split-column and does not combine "
                                 "with --dask or --search", param_hint="--stream")
    with _errors():
        settings = _settings(target_fpr=target_fpr)
        params = dict(DEFAULT_PARAMS)
        if model:
            params["model"] = model
        params["tune"] = tune
        if linear_solver is not LinearSolver.liblinear:
            params["linear_solver"] = linear_solver.value
        opts = TrainOptions(search=None if search is SearchKind.none else search.value,
                            n_iter=n_iter, learning_curve=learning_curve and report is not None,
                            params=params)
        run = TrainRun(index=index, model_out=model_out, root=root, split_column=split_column,
                       how=(SplitHow.column if split_column else (split or SplitHow.random)
                            ).value,
                       options=opts, report_dir=report, overwrite=overwrite, n_jobs=n_jobs,
                       stream=stream, seed_size=seed_size, dask=dask,
                       auth=_batch_auth(settings, verify_auth))
        _print_summary(train_index(run, settings, shown), as_json)


@app.command()
def evaluate(
    index: Annotated[Path, typer.Option(help="Labelled index CSV.")],
    model: Annotated[Path, typer.Option(help="Model directory or registry.")],
    report: Annotated[Path, typer.Option(help="Folder for metrics.json and report.html.")],
    root: Annotated[Path | None, typer.Option(help="Folder the index paths are relative to.")] = None,
    split_column: Annotated[str | None, typer.Option("--split-column", help="Evaluate the rows whose value is 'test' (default: every row).")] = None,
    n_jobs: Annotated[int, typer.Option(callback=_check_n_jobs, envvar="SPAMSIFT_N_JOBS", help="Processes for featurising.")] = -1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    verify_auth: Annotated[bool, typer.Option("--verify-auth", help="Also verify DKIM, ARC and DMARC by DNS (archives' old keys no longer resolve: by default only the site's trusted Authentication-Results count).")] = False,
) -> None:
    """Evaluate a model on the test rows of an index; write metrics.json and report.html."""
    from spamsift.serving.service import resolve_model
    from spamsift.training.runs import evaluate_index

    with _errors():
        settings = _settings()
        summary = evaluate_index(resolve_model(model, settings), index, report, root=root,
                                 split_column=split_column, n_jobs=n_jobs,
                                 auth=_batch_auth(settings, verify_auth), reporter=shown)
        _print_summary(summary, as_json)


@app.command()
def replay(
    index: Annotated[Path, typer.Option(help="Labelled index CSV.")],
    out_path: Annotated[Path, typer.Option("--out", help="CSV to write path,score,verdict to.")],
    root: Annotated[Path | None, typer.Option(help="Folder the index paths are relative to.")] = None,
    split_column: Annotated[str | None, typer.Option("--split-column", help="'train' rows are trained on first, 'test' rows replayed (default: replay every row).")] = None,
    from_bundled: Annotated[bool, typer.Option("--from-bundled", help="Start from the bundled model; 'train' rows are then learned as feedback.")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where the replay's feedback store lives (default: a temporary folder).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write replay.json (metrics and the curve over time) here.")] = None,
    n_jobs: Annotated[int, typer.Option(callback=_check_n_jobs, envvar="SPAMSIFT_N_JOBS", help="Processes for featurising the training rows.")] = -1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay: classify each test message in date order, then learn its true label."""
    from spamsift.training.replay import replay_index
    from spamsift.training.runs import headline

    with _errors():
        result = replay_index(index, _settings(), root=root, split_column=split_column,
                              from_bundled=from_bundled, data_dir=data_dir, n_jobs=n_jobs,
                              reporter=shown)
        with open(out_path, "w", newline="") as fh:
            _write_scores(result.rows, fh)
        summary = {"out": str(out_path), "replayed": len(result.rows),
                   "learned": result.learned, **headline(result.metrics)}
        if report is not None:
            summary["report"] = str(result.write_report(report))
        _print_summary(summary, as_json)
        if not as_json:
            t = Table("messages", "(1-ROCA)%", "FPR", "FNR", title="over time")
            for p in result.curve:
                t.add_row(f"{p['from']}-{p['to']}", _fmt(p.get("one_minus_roca_pct", "–")),
                          _fmt(p["fpr"]), _fmt(p["fnr"]))
            out.print(t)


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
        from spamsift.serving.service import SpamService, resolve_model
        from spamsift.training.runs import read_rows

        rows = read_rows(root / "index.csv", root, split_column, only_split="test",
                         reporter=shown)
        sample = rows[:2] + rows[-2:]

        service = SpamService(resolve_model(model_dir, settings), top_clues=5)
        out.rule("a few test messages")
        for raw, v in service.classify_stream(sample):
            out.print(f"[bold]{v.verdict:6s}[/] {v.score:.4f} (true: {raw.label})  {raw.source}",
                      highlight=False)
            for clue, w in v.clues:
                out.print(f"    {w:+8.3f}  {clue}", highlight=False, markup=False)
        out.print(f"\nreport: {report_dir / 'report.html'}")
