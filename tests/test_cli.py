"""The ``spamsift`` command end to end, on a small index written to a temporary folder.

The train and score command lines run exactly as documented, in a subprocess; the
rest go through Typer's runner in-process, which is quicker. Hostile messages run in
a subprocess with a generous timeout, which guards against a hang and times nothing.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spamsift import exceptions as exc
from spamsift import exceptions as feedback_errors
from spamsift.cli import app, exit_code
from spamsift.exceptions import IdempotencyError, NotFoundError, StoreError
from spamsift.models.persistence import load_model, save_model
from spamsift.models.spam_model import SpamModel

CLI = [sys.executable, "-m", "spamsift.cli"]
VERDICTS = {"spam", "unsure", "ham"}
runner = CliRunner()
Mail = list[tuple[bytes, str]]


def run_cli(args: list[str], cwd: Path, timeout: float = 120, stdin: bytes | None = None
            ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, input=stdin, capture_output=True,
                          timeout=timeout, check=False,
                          **({} if stdin is not None else {"text": True}))


def one_line(text: str) -> str:
    """Rich wraps long lines for a non-terminal; join them back for matching."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, mail_set: Mail,
           index_writer: Callable[..., Path]) -> Path:
    """A folder of 80 messages and ``index.csv`` with a ``split`` column (20 test rows)."""
    root = tmp_path_factory.mktemp("cli-corpus")
    index_writer(root, mail_set, test_every=4, column="split")
    return root


@pytest.fixture(scope="module")
def trained(corpus: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[subprocess.CompletedProcess[str], Path]:
    work = tmp_path_factory.mktemp("cli-train")
    model = work / "model"
    proc = run_cli(["train", "--index", str(corpus / "index.csv"), "--root", str(corpus),
                    "--split-column", "split", "--model-out", str(model)], cwd=work)
    assert proc.returncode == 0, proc.stderr
    return proc, model


@pytest.fixture(scope="module")
def model_dir(trained: tuple[subprocess.CompletedProcess[str], Path]) -> Path:
    return trained[1]


def _test_rows(corpus: Path) -> list[str]:
    with open(corpus / "index.csv", newline="", encoding="utf-8") as fh:
        return [r["path"] for r in csv.DictReader(fh) if r["split"] == "test"]


# -- train and score, exactly as documented ------------------------------------------


def test_train_writes_a_model_directory(trained: tuple[subprocess.CompletedProcess[str], Path]
                                        ) -> None:
    proc, model = trained
    assert (model / "manifest.json").is_file() and (model / "arrays.npz").is_file()
    manifest = json.loads((model / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "SpamModel"
    assert manifest["training_data"]["n_train"] == 60
    assert manifest["training_data"]["n_test"] == 20
    assert "n_train" in proc.stdout


def test_score_writes_path_score_verdict_for_exactly_the_test_rows(
        corpus: Path, model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    proc = run_cli(["score", "--index", str(corpus / "index.csv"), "--root", str(corpus),
                    "--split-column", "split", "--model", str(model_dir), "--out", str(out)],
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["path", "score", "verdict"]
        rows = list(reader)
    assert sorted(r[0] for r in rows) == sorted(_test_rows(corpus))
    assert all(0.0 <= float(score) <= 1.0 for _, score, _ in rows)
    assert {verdict for *_, verdict in rows} <= VERDICTS
    # The hand-made test rows are easy: every spam row is called spam, no ham is.
    assert all((verdict == "spam") == path.startswith("spam/") for path, _, verdict in rows)


def test_score_to_stdout_from_an_input_folder(corpus: Path, model_dir: Path) -> None:
    result = runner.invoke(app, ["score", "--model", str(model_dir),
                                 "--input", str(corpus / "spam")])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(result.stdout.splitlines()))
    assert rows[0] == ["path", "score", "verdict"]
    assert len(rows) == 1 + 40


def test_train_with_a_report_and_json_summary(corpus: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, [
        "train", "--index", str(corpus / "index.csv"), "--split-column", "split",
        "--model-out", str(tmp_path / "m"), "--report", str(tmp_path / "r"),
        "--no-learning-curve", "--model", "nb", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_train"] == 60
    assert summary["test_metrics"]["n"] == 20
    assert (tmp_path / "r" / "metrics.json").is_file()
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["members"] == ["nb"]
    assert manifest["metrics"]["n"] == 20


def test_a_model_for_any_site_is_trained_without_site_evidence(corpus: Path, tmp_path: Path
                                                               ) -> None:
    result = runner.invoke(app, [
        "train", "--index", str(corpus / "index.csv"), "--split-column", "split",
        "--model-out", str(tmp_path / "m"), "--model", "nb"],
        env={"SPAMSIFT_SITE_EVIDENCE": "false"})
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["featurizer"]["site_evidence"] is False
    model = load_model(tmp_path / "m")
    assert model.featurizer.site_evidence is False
    # Sender identity is left out: a sender never seen is no evidence at a new site,
    # so changing only the From line leaves the score as it was.
    assert model.classifier.block_weights()[1] == 0
    raw = b"From: Ann <ann@one.example>\nSubject: lunch\n\nlunch at noon on friday?\n"
    other = raw.replace(b"ann@one.example", b"zed@never-seen.example")
    a, b = model.classify([raw, other], top=20)
    assert a.logit == pytest.approx(b.logit, abs=1e-9)
    assert not [c for c, _ in a.clues if c.startswith("rep:")]


# -- classify ------------------------------------------------------------------------


def test_classify_json_prints_one_object_per_message(corpus: Path, model_dir: Path) -> None:
    paths = [corpus / "spam" / "000.eml", corpus / "ham" / "000.eml", corpus / "ham" / "001.eml"]
    result = runner.invoke(app, ["classify", "--json", "--model", str(model_dir),
                                 *map(str, paths)])
    assert result.exit_code == 0, result.output
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["source"] for o in objs] == [p.as_posix() for p in paths]
    for o in objs:
        assert o["verdict"] in VERDICTS
        assert 0.0 <= o["score"] <= 1.0
        assert o["clues"] and all(set(c) == {"clue", "weight"} for c in o["clues"])
    assert [o["verdict"] for o in objs] == ["spam", "ham", "ham"]


def test_classify_human_output_shows_verdict_and_clues(corpus: Path, model_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(corpus)  # a short source: Rich wraps long lines for a non-terminal
    result = runner.invoke(app, ["classify", "--top", "3", "--model", str(model_dir),
                                 "spam/001.eml"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "spam"
    assert len(lines) == 1 + 3
    assert all(re.match(r"\s+[+-]\d+\.\d{3}\s+\S", line) for line in lines[1:])


@pytest.mark.parametrize("args", [pytest.param([], id="no-path"), pytest.param(["-"], id="dash")])
def test_classify_from_stdin(model_dir: Path, mail_set: Mail, args: list[str]) -> None:
    spam = next(data for data, label in mail_set if label == "spam")
    result = runner.invoke(app, ["classify", "--json", "--model", str(model_dir), *args],
                           input=spam)
    assert result.exit_code == 0, result.output
    (obj,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert obj["source"] == "stdin"
    assert obj["verdict"] == "spam"


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(random.Random(7).randbytes(4096), id="random-bytes"),
    pytest.param(b"\x00" * 100 + b"\r\r\n\n--", id="nul-and-stray-breaks"),
])
def test_classify_anything_gives_a_verdict(model_dir: Path, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "message"
    path.write_bytes(data)
    result = runner.invoke(app, ["classify", "--json", "--model", str(model_dir), str(path)])
    assert result.exit_code == 0, result.output
    (obj,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert obj["verdict"] in VERDICTS
    if not data:
        assert "empty" in obj["flags"]


# -- errors and exit codes -----------------------------------------------------------


def test_missing_model_is_exit_4(tmp_path: Path, corpus: Path) -> None:
    result = runner.invoke(app, ["classify", "--model", str(tmp_path / "no-model"),
                                 str(corpus / "ham" / "000.eml")])
    assert result.exit_code == 4
    assert "error:" in result.stderr
    assert "model artifact directory" in one_line(result.stderr)


def test_tampered_model_is_exit_4(model_dir: Path, tmp_path: Path, corpus: Path) -> None:
    copy = Path(shutil.copytree(model_dir, tmp_path / "model"))
    arrays = copy / "arrays.npz"
    data = bytearray(arrays.read_bytes())
    data[len(data) // 2] ^= 0xFF
    arrays.write_bytes(bytes(data))
    result = runner.invoke(app, ["classify", "--model", str(copy),
                                 str(corpus / "ham" / "000.eml")])
    assert result.exit_code == 4
    assert "sha256" in one_line(result.stderr)


def test_a_model_from_a_later_release_is_exit_4_naming_the_parameter(
        small_model: SpamModel, tmp_path: Path, corpus: Path) -> None:
    model = save_model(small_model, tmp_path / "m")
    manifest_path = model / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["classifier"]["feedback_gamma"] = 1.0  # a parameter of a later release
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    result = runner.invoke(app, ["classify", "--model", str(model),
                                 str(next((corpus / "ham").iterdir()))])
    assert result.exit_code == 4, result.output
    said = one_line(result.stderr)
    assert "parameters this spamsift does not know: feedback_gamma" in said
    assert "spamsift models activate" in said


@pytest.mark.parametrize("command", ["score", "train"])
def test_missing_index_is_exit_3(tmp_path: Path, model_dir: Path, command: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = {"score": ["score", "--model", str(model_dir), "--index", "nope.csv"],
            "train": ["train", "--index", "nope.csv", "--model-out", "m"]}[command]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert "nope.csv" in one_line(result.stderr)
    assert not (tmp_path / "m").exists()


def test_missing_message_file_is_exit_3(model_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", "--model", str(model_dir),
                                 str(tmp_path / "absent.eml")])
    assert result.exit_code == 3


def test_unknown_split_column_is_exit_3(corpus: Path, model_dir: Path) -> None:
    result = runner.invoke(app, ["score", "--model", str(model_dir), "--index",
                                 str(corpus / "index.csv"), "--split-column", "nosuch"])
    assert result.exit_code == 3
    assert "nosuch" in one_line(result.stderr)


def test_training_on_one_class_is_exit_5(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ham-only.csv"
    with open(corpus / "index.csv", newline="", encoding="utf-8") as src, \
            open(index, "w", newline="", encoding="utf-8") as dst:
        dst.writelines(line for line in src if ",spam," not in line)
    result = runner.invoke(app, ["train", "--index", str(index), "--root", str(corpus),
                                 "--split-column", "split", "--model-out", str(tmp_path / "m")])
    assert result.exit_code == 5
    assert "both classes" in one_line(result.stderr)


def test_bad_setting_is_exit_6(corpus: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--index", str(corpus / "index.csv"),
                                 "--model-out", str(tmp_path / "m"), "--target-fpr", "0.9"])
    assert result.exit_code == 6
    assert "target_fpr" in one_line(result.stderr)


# README's exit codes: 0 success; 2 usage; 3 bad input; 4 model; 5 training; 6
# configuration; 7 corpus; 8 feedback store; 9 a worker process died; 1 unexpected.
_README_CODES = [
    (exc.InputError, 3), (exc.IngestError, 3), (exc.MessageError, 3),
    (NotFoundError, 3),  # an unknown key or event id: the caller's input
    (exc.ModelError, 4), (exc.ModelFormatError, 4), (exc.ModelIntegrityError, 4),
    (exc.TrainingError, 5), (exc.ConfigError, 6), (exc.CorpusError, 7),
    (StoreError, 8), (IdempotencyError, 8), (exc.WorkerError, 9), (exc.SpamsiftError, 1),
]


@pytest.mark.parametrize(("error", "code"),
                         [pytest.param(e, c, id=e.__name__) for e, c in _README_CODES])
def test_each_error_exits_with_the_code_readme_documents(error: type[Exception],
                                                         code: int) -> None:
    assert exit_code(error("x")) == code


def test_every_error_of_the_tree_has_a_documented_code() -> None:
    tree = {getattr(exc, n) for n in exc.__all__} | {getattr(feedback_errors, n)
                                                     for n in feedback_errors.__all__}
    assert tree == {e for e, _ in _README_CODES}


def test_the_keys_group_exits_through_the_same_table(tmp_path: Path) -> None:
    # Through the main command: an unknown key id is bad input (3), not a store failure.
    result = runner.invoke(app, ["keys", "revoke", "000000000000", "--data-dir",
                                 str(tmp_path)])
    assert result.exit_code == exit_code(NotFoundError("x")) == 3, result.output
    assert "no API key" in result.stderr


def test_a_killed_featurising_worker_is_exit_9_and_the_next_score_works(
        corpus: Path, small_model: SpamModel, tmp_path: Path,
        threads: dict[int, ProcessPoolExecutor], workers_killed: Callable[[bool], None]
) -> None:
    model = save_model(small_model, tmp_path / "model")
    args = ["score", "--model", str(model), "--input", str(corpus / "spam"), "--n-jobs", "2"]
    workers_killed(True)
    result = runner.invoke(app, args)
    assert result.exit_code == exit_code(exc.WorkerError("x")) == 9, result.output
    said = one_line(result.stderr)
    assert said.startswith("error: a featurising worker process died")
    assert "out of memory" in said and "--n-jobs" in said and "SPAMSIFT_N_JOBS" in said
    assert "Traceback" not in result.output + result.stderr
    workers_killed(False)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert len(list(csv.reader(again.stdout.splitlines()))) == 1 + 40


def test_a_killed_featurising_worker_in_train_is_exit_9(
        tmp_path: Path, mail_factory: Callable[..., Mail], index_writer: Callable[..., Path],
        threads: dict[int, ProcessPoolExecutor], workers_killed: Callable[[bool], None]
) -> None:
    # More messages than one chunk (256): only then does train featurise in processes.
    index = index_writer(tmp_path / "corpus", mail_factory(150, 150))
    workers_killed(True)
    result = runner.invoke(app, ["train", "--index", str(index), "--split-column", "split",
                                 "--model-out", str(tmp_path / "m"), "--n-jobs", "2"])
    assert result.exit_code == 9, result.output
    assert "featurising worker process died" in one_line(result.stderr)
    assert not (tmp_path / "m").exists()


# -- models and evaluate -------------------------------------------------------------


def test_models_add_list_activate(model_dir: Path, small_model: SpamModel, tmp_path: Path,
                                  corpus: Path) -> None:
    registry = tmp_path / "registry"
    other = save_model(small_model, tmp_path / "other-model")
    first = runner.invoke(app, ["models", "add", str(model_dir), "--registry", str(registry),
                                "--activate"])
    assert first.exit_code == 0, first.output
    v1 = first.stdout.strip()
    second = runner.invoke(app, ["models", "add", str(other), "--registry", str(registry)])
    assert second.exit_code == 0, second.output
    v2 = second.stdout.strip()
    assert v1 != v2

    def listed() -> dict[str, bool]:
        result = runner.invoke(app, ["models", "list", "--registry", str(registry), "--json"])
        assert result.exit_code == 0, result.output
        return {v["version"]: v["is_active"] for v in json.loads(result.stdout)}

    assert listed() == {v1: True, v2: False}
    result = runner.invoke(app, ["models", "activate", v2, "--registry", str(registry)])
    assert result.exit_code == 0, result.output
    assert listed() == {v1: False, v2: True}
    table = runner.invoke(app, ["models", "list", "--registry", str(registry)])
    assert table.exit_code == 0, table.output
    assert "active" in table.stdout and "*" in table.stdout
    # A registry serves its active version: the small model's cut-offs, not the CLI one's
    # (no DNS checks, which the model alone does not make: tests/mailauth/test_doors.py).
    result = runner.invoke(app, ["classify", "--json", "--model", str(registry),
                                 str(corpus / "spam" / "000.eml")],
                           env={"SPAMSIFT_AUTH_VERIFY": "never"})
    assert result.exit_code == 0, result.output
    expected = small_model.score([(corpus / "spam" / "000.eml").read_bytes()])[0]
    assert json.loads(result.stdout)["score"] == pytest.approx(expected, abs=1e-5)


def test_activating_an_unknown_version_is_exit_4(model_dir: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    assert runner.invoke(app, ["models", "add", str(model_dir), "--registry",
                               str(registry)]).exit_code == 0
    result = runner.invoke(app, ["models", "activate", "no-such-version", "--registry",
                                 str(registry)])
    assert result.exit_code == 4


def test_evaluate_writes_metrics_and_report(corpus: Path, model_dir: Path,
                                            tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = runner.invoke(app, ["evaluate", "--index", str(corpus / "index.csv"), "--model",
                                 str(model_dir), "--report", str(report), "--split-column",
                                 "split", "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))["metrics"]
    assert metrics["n"] == len(_test_rows(corpus))
    assert metrics["roc_auc"] == 1.0
    assert (report / "report.html").stat().st_size > 0
    assert json.loads(result.stdout)["n"] == metrics["n"]


# -- hostile input -------------------------------------------------------------------


def _big(path: Path) -> None:
    line = b"lorem ipsum dolor sit amet free money click here now and again\n"
    with open(path, "wb") as fh:
        fh.write(b"From: a@example.com\nSubject: big\n\n")
        block = line * (1024 * 1024 // len(line))
        for _ in range(51):  # 51 MiB: the reader cuts it at the 10 MiB cap
            fh.write(block)


def _many_parts(path: Path) -> None:
    parts = b"".join(b"--b\nContent-Type: text/plain\n\npart %d\n" % i for i in range(10_000))
    path.write_bytes(b"From: a@example.com\nSubject: parts\nMIME-Version: 1.0\n"
                     b"Content-Type: multipart/mixed; boundary=b\n\n" + parts + b"--b--\n")


def _deep(path: Path, levels: int = 1000) -> None:
    opens = b"".join(b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1)
                     for i in range(levels))
    inner = b"--b%d\nContent-Type: text/plain\n\ndeep\n--b%d--\n" % (levels, levels)
    closes = b"".join(b"--b%d--\n" % i for i in reversed(range(levels)))
    path.write_bytes(b"From: a@example.com\nSubject: nested\nMIME-Version: 1.0\n"
                     b"Content-Type: multipart/mixed; boundary=b0\n\n" + opens + inner + closes)


@pytest.mark.parametrize("make", [
    pytest.param(_big, id="50MB"),
    pytest.param(_many_parts, id="10000-parts"),
    pytest.param(_deep, id="1000-levels"),
])
def test_hostile_message_gets_a_verdict(make: Callable[[Path], None], model_dir: Path,
                                        tmp_path: Path) -> None:
    path = tmp_path / "hostile.eml"
    make(path)
    proc = run_cli(["classify", "--json", "--model", str(model_dir), str(path)], cwd=tmp_path,
                   timeout=600)
    assert proc.returncode == 0, proc.stderr
    (obj,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert obj["verdict"] in VERDICTS
    assert 0.0 <= obj["score"] <= 1.0
    # What was cut or parsed another way says so.
    assert any(f.startswith(("truncated", "parser:")) for f in obj["flags"]), obj["flags"]


def test_train_stream_writes_a_model_that_scores(corpus: Path, tmp_path: Path) -> None:
    model = tmp_path / "m"
    result = runner.invoke(app, ["train", "--index", str(corpus / "index.csv"), "--root",
                                 str(corpus), "--split-column", "split", "--model-out",
                                 str(model), "--stream", "--seed-size", "30", "--n-jobs", "1",
                                 "--report", str(tmp_path / "report"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["test_metrics"]["n"] == 20
    assert (tmp_path / "report" / "report.html").exists()
    # 60 training rows: 30 in the seed, the rest learned as a stream (less any duplicates).
    assert summary["n_seed"] == 30
    assert summary["n_train"] == 30 + summary["n_streamed"]
    scored = runner.invoke(app, ["score", "--model", str(model), "--index",
                                 str(corpus / "index.csv"), "--split-column", "split",
                                 "--n-jobs", "1"])
    assert scored.exit_code == 0
    assert {r["verdict"] for r in csv.DictReader(scored.stdout.splitlines())} <= VERDICTS


@pytest.mark.parametrize(("extra", "code", "words"), [
    pytest.param(["--seed-size", "500"], 5, "needs 500 distinct training rows", id="seed-too-big"),
    pytest.param(["--split-column", "nosuch"], 3, "nosuch", id="unknown-column"),
    pytest.param(["--split-column", "label"], 5, "no training rows", id="no-training-rows"),
])
def test_train_stream_bad_input_exit_codes(corpus: Path, tmp_path: Path, extra: list[str],
                                           code: int, words: str) -> None:
    args = ["train", "--index", str(corpus / "index.csv"), "--root", str(corpus),
            "--model-out", str(tmp_path / "m"), "--stream", "--n-jobs", "1"]
    if "--split-column" not in extra:
        args += ["--split-column", "split"]
    result = runner.invoke(app, args + extra)
    assert result.exit_code == code, result.output
    assert words in one_line(result.stderr)
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(("command", "args", "option"), [
    pytest.param("train", ["--model", "x"], "--model", id="train-model"),
    pytest.param("train", ["--model", "nb+nb"], "--model", id="train-model-twice"),
    pytest.param("train", ["--model", ""], "--model", id="train-model-empty"),
    pytest.param("train", ["--search", "random", "--n-iter", "0"], "--n-iter",
                 id="train-n-iter"),
    pytest.param("train", ["--n-jobs", "0"], "--n-jobs", id="train-n-jobs"),
    pytest.param("score", ["--n-jobs", "0"], "--n-jobs", id="score-n-jobs"),
    pytest.param("evaluate", ["--n-jobs", "0", "--model", "m", "--report", "r"], "--n-jobs",
                 id="evaluate-n-jobs"),
])
def test_a_bad_option_value_is_a_usage_error(corpus: Path, tmp_path: Path, command: str,
                                             args: list[str], option: str) -> None:
    index = ["--index", str(corpus / "index.csv"), "--root", str(corpus)]
    out = ["--model-out", str(tmp_path / "m")] if command == "train" else []
    result = runner.invoke(app, [command, *index, *out, *args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert f"Invalid value for '{option}'" in one_line(result.stderr)
    assert not (tmp_path / "m").exists()


def test_a_bad_model_is_refused_before_any_mail_is_read(tmp_path: Path) -> None:
    # In a real process: no traceback, the usage line and the reason.
    proc = run_cli(["train", "--index", str(tmp_path / "no-such.csv"), "--model-out",
                    str(tmp_path / "m"), "--model", "x"], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "joined by '+', got 'x'" in one_line(proc.stderr)


@pytest.mark.parametrize("args", [
    pytest.param(["--stream"], id="stream-without-split-column"),
    pytest.param(["--split-column", "split", "--seed-size", "30"], id="seed-size-without-stream"),
    pytest.param(["--split-column", "split", "--stream", "--search", "grid"], id="with-search"),
])
def test_train_stream_usage_errors_are_exit_2(corpus: Path, tmp_path: Path,
                                              args: list[str]) -> None:
    result = runner.invoke(app, ["train", "--index", str(corpus / "index.csv"), "--root",
                                 str(corpus), "--model-out", str(tmp_path / "m"), *args])
    assert result.exit_code == 2, result.output


# -- config ----------------------------------------------------------------------------


@pytest.fixture
def config_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No SPAMSIFT_* but these: a file, and the environment over it for one key."""
    for name in list(os.environ):
        if name.startswith("SPAMSIFT_"):
            monkeypatch.delenv(name)
    cfg = tmp_path / "spamsift.toml"
    cfg.write_text("target_fpr = 0.002\nseed = 7\n[limits]\nmax_parts = 9\n")
    monkeypatch.setenv("SPAMSIFT_CONFIG", str(cfg))
    monkeypatch.setenv("SPAMSIFT_TARGET_FPR", "0.005")
    monkeypatch.setenv("SPAMSIFT_DATABASE_URL", "postgresql+psycopg://spam:s3cret@db/spamsift")
    return cfg


def test_config_json_shows_each_value_and_where_it_came_from(config_env: Path) -> None:
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["target_fpr"] == {"value": 0.005, "source": "env"}
    assert shown["seed"] == {"value": 7, "source": "file"}
    assert shown["top_clues"] == {"value": 8, "source": "default"}
    assert shown["limits.max_parts"] == {"value": 9, "source": "file"}
    assert shown["limits.max_depth"] == {"value": 20, "source": "default"}
    assert shown["database_url"] == {"value": "postgresql+psycopg://spam:***@db/spamsift",
                                     "source": "env"}
    assert "s3cret" not in result.output


def test_config_without_json_is_a_table(config_env: Path) -> None:
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line.split() for line in result.stdout.splitlines()
            if line.startswith("│")}
    assert rows["target_fpr"][3:6] == ["0.005", "│", "env"]
    assert rows["limits.max_parts"][3:6] == ["9", "│", "file"]
    assert "s3cret" not in result.output


def test_config_with_a_bad_file_is_exit_6(config_env: Path) -> None:
    config_env.write_text("seed = 7\nsede = 8\n")
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 6
    assert "sede=8 (file)" in one_line(result.stderr)


def test_n_jobs_comes_from_the_environment_when_not_given(
        corpus: Path, small_model: SpamModel, tmp_path: Path) -> None:
    model = save_model(small_model, tmp_path / "model")
    args = ["score", "--model", str(model), "--input", str(corpus / "spam")]
    bad = runner.invoke(app, args, env={"SPAMSIFT_N_JOBS": "0"})
    said = re.sub(r"[\s│╭╮╰╯─]+", " ", bad.output)  # Rich's error box, unwrapped
    assert bad.exit_code == 2 and "-1 for every core (-2 all but one), got 0" in said
    for junk in ("abc", "1e9999"):  # not a number: the option's own usage error
        assert runner.invoke(app, args, env={"SPAMSIFT_N_JOBS": junk}).exit_code == 2, junk
    empty = runner.invoke(app, args, env={"SPAMSIFT_N_JOBS": ""})  # unset to the option,
    assert empty.exit_code == 6 and "bad setting: n_jobs" in empty.output  # bad to settings
    ok = runner.invoke(app, args, env={"SPAMSIFT_N_JOBS": "1"})
    assert ok.exit_code == 0, ok.output
    assert runner.invoke(app, [*args, "--n-jobs", "1"],
                         env={"SPAMSIFT_N_JOBS": "0"}).exit_code == 0  # the flag wins
