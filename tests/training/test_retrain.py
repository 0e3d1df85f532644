"""Retraining: the challenger, the comparison, the watermark, crash safety, CLI, schedule.

Every data folder here starts with a champion trained on the small featurizer, so
the challenger (which keeps the champion's featurizer) trains in a fraction of a
second. Feedback is given with a clock a few minutes back, so it lies before the
retrain's watermark unless a test says otherwise.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from spamsift.cli import app
from spamsift.config import Settings
from spamsift.datadir import open_stores
from spamsift.db.database import resolve_url
from spamsift.exceptions import TrainingError
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.feedback import FeedbackStore
from spamsift.models.persistence import load_model, save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.server import build_app
from spamsift.training import retrain as retrain_module
from spamsift.training.online import catch_up
from spamsift.training.retrain import PAUSE_ENV, decide, held_back, retrain
from spamsift.training.trainer import TrainOptions, fit_model

Mail = list[tuple[bytes, str]]
# As conftest's small_model: the corpus-tuned defaults are for thousands of messages.
PARAMS = {"model": "nb+svm", "aux_weight": 0.5, "rep_weight": None, "C_svm": 3.0}
SETTLE = retrain_module._SETTLE


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(target_fpr=0.01, unsure_fpr=0.1, seed=0, n_jobs=1,
                    model_poll_seconds=0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, mail_set: Mail,
           index_writer: Callable[..., Path]) -> Path:
    """80 messages and ``index.csv``, its ``split`` column marking 60 of them ``train``."""
    root = tmp_path_factory.mktemp("retrain-corpus")
    return index_writer(root, mail_set, test_every=4, column="split")


def train(mail: Mail, featurizer: MessageFeaturizer, settings: Settings) -> SpamModel:
    X = featurizer.transform([raw for raw, _ in mail])
    y = np.array([int(label == "spam") for _, label in mail])
    model, _ = fit_model(featurizer, X, y, settings,
                         TrainOptions(learning_curve=False, params=PARAMS))
    return model


def with_champion(data_dir: Path, model: SpamModel) -> ModelRegistry:
    registry = ModelRegistry(data_dir / "models")
    registry.activate(registry.add(lambda p: save_model(model, p), version="champion"))
    return registry


def give(data_dir: Path, settings: Settings, feedback: Mail,
         when: datetime | None = None) -> None:
    """Record each ``(raw, label)`` as one user's feedback, stamped ``when``."""
    when = when or datetime.now(UTC) - timedelta(minutes=5)
    with FeedbackStore(resolve_url(settings.database_url, data_dir),
                       clock=lambda: when) as store:
        for raw, label in feedback:
            store.add_feedback(raw, label=label, user="ann")


@pytest.fixture(scope="module")
def weak_champion(mail_factory: Callable[..., Mail], small_featurizer: MessageFeaturizer,
                  settings: Settings) -> SpamModel:
    """Trained on 4 ham and 4 spam: the corpus has more to teach it."""
    return train(mail_factory(4, 4, seed=5), small_featurizer, settings)


@pytest.fixture(scope="module")
def strong_champion(mail_set: Mail, small_featurizer: MessageFeaturizer,
                    settings: Settings) -> SpamModel:
    """Trained on all 80 messages of the corpus."""
    return train(mail_set, small_featurizer, settings)


def readyz(client: TestClient) -> str:
    return str(client.get("/readyz").json()["model_version"])


def test_a_better_challenger_is_promoted_and_the_running_server_serves_it(
        tmp_path: Path, corpus: Path, weak_champion: SpamModel, settings: Settings) -> None:
    registry = with_champion(tmp_path, weak_champion)
    polling = settings.model_copy(update={"model_poll_seconds": 0.05})
    with TestClient(build_app(tmp_path, polling, stores=open_stores)) as client:
        assert readyz(client) == "champion"
        report = retrain(tmp_path, settings, corpus_index=corpus, corpus_root=None,
                         split_column="split")
        assert report.decision == "promoted" and report.promoted
        assert registry.active() == report.active_version == report.version
        assert report.previous_version == "champion"
        # The weak champion calls some held-back ham spam; the challenger none.
        assert report.challenger["fpr"] == 0 < report.champion["fpr"]
        deadline = time.monotonic() + 10
        while readyz(client) != report.version and time.monotonic() < deadline:
            time.sleep(0.05)
        assert readyz(client) == report.version  # picked up by the registry poll
        ok = client.post("/v1/classify", content=b"Subject: hi\n\nlunch on friday?")
        assert ok.status_code == 200
    assert report.data["held_back_from"] == "corpus"
    assert report.data["n_train"] + report.data["n_held_back"] == 60
    saved = json.loads(Path(report.report_path or "").read_text())
    assert saved["decision"] == "promoted" and saved["version"] == report.version
    assert Path(report.report_path or "").parent == tmp_path / "retrain-reports"
    manifest = json.loads((registry.path(report.version) / "manifest.json").read_text())
    assert manifest["feedback_until"] == report.feedback_until
    assert manifest["retrain"]["decision"] == "promoted"
    assert manifest["retrain"]["previous_version"] == "champion"


@pytest.fixture(scope="module")
def counting_champion(mail_set: Mail, small_featurizer: MessageFeaturizer,
                      settings: Settings) -> SpamModel:
    """The strong champion, learning feedback through its counts only.

    The champion is judged as served, with the feedback given since it was trained;
    its margin members would learn the poison as fast as the challenger does, and
    the comparison would then test the feedback, not the gate.
    """
    X = small_featurizer.transform([raw for raw, _ in mail_set])
    y = np.array([int(label == "spam") for _, label in mail_set])
    params = {**PARAMS, "feedback_margin": 0.0, "feedback_ham_margin": 0.0}
    model, _ = fit_model(small_featurizer, X, y, settings,
                         TrainOptions(learning_curve=False, params=params))
    return model


def test_a_challenger_taught_poisoned_feedback_is_kept_back(
        tmp_path: Path, corpus: Path, counting_champion: SpamModel, settings: Settings,
        mail_factory: Callable[..., Mail]) -> None:
    registry = with_champion(tmp_path, counting_champion)
    give(tmp_path, settings, [(raw, "ham") for raw, _ in mail_factory(0, 20, seed=3)])
    before = open_stores_counts(tmp_path, settings)
    report = retrain(tmp_path, settings, corpus_index=corpus, corpus_root=None,
                     split_column="split")
    assert report.decision == "kept" and not report.promoted
    assert "misses more spam" in report.reason
    assert report.challenger["fnr"] > report.champion["fnr"]
    assert registry.active() == report.active_version == "champion"
    # The challenger is in the registry, whole and inactive, for an admin to inspect.
    listed = {v.version: v for v in registry.versions()}
    assert set(listed) == {"champion", report.version}
    assert not listed[report.version].is_active and listed[report.version].problem is None
    # Feedback trains the challenger but the yardstick is the curated corpus.
    assert report.data["feedback_rows"] == 20 and report.data["n_held_back_feedback"] == 0
    assert report.data["n_train_feedback"] >= 20 - report.data["duplicates_dropped"]
    assert report.champion["feedback_caught_up"] == 20  # judged as served
    assert open_stores_counts(tmp_path, settings) == before  # only read


def open_stores_counts(data_dir: Path, settings: Settings) -> object:
    _, store = open_stores(data_dir, settings)
    try:
        return store.counts()
    finally:
        store.db.close()


def test_the_watermark_splits_feedback_between_training_and_catch_up(
        tmp_path: Path, corpus: Path, weak_champion: SpamModel, settings: Settings,
        mail_factory: Callable[..., Mail]) -> None:
    with_champion(tmp_path, weak_champion)
    old, recent, late = mail_factory(2, 1, seed=8)
    now = datetime.now(UTC)
    give(tmp_path, settings, [old], when=now - timedelta(hours=1))    # trained on
    give(tmp_path, settings, [recent], when=now - SETTLE / 2)          # after the watermark
    report = retrain(tmp_path, settings, corpus_index=corpus, corpus_root=None,
                     split_column="split", now=now)
    give(tmp_path, settings, [late], when=now + timedelta(seconds=1))  # after the retrain
    assert report.feedback_until == (now - SETTLE).isoformat()
    assert report.data["feedback_rows"] == 1 and report.data["feedback_after_watermark"] == 1
    model = load_model(ModelRegistry(tmp_path / "models").path(report.version))
    assert model.info["feedback_until"] == report.feedback_until
    _, store = open_stores(tmp_path, settings)
    try:
        learned = [lm.raw for lm in store.effective_labels(
            since=datetime.fromisoformat(model.info["feedback_until"]))]
        assert catch_up(model, store) == 2  # what loading it teaches: not the old one
    finally:
        store.db.close()
    assert learned == [recent[0], late[0]]


def test_without_a_corpus_feedback_is_held_back_then_learned(
        tmp_path: Path, weak_champion: SpamModel, settings: Settings,
        mail_factory: Callable[..., Mail]) -> None:
    with_champion(tmp_path, weak_champion)
    give(tmp_path, settings, mail_factory(20, 20, seed=4))
    report = retrain(tmp_path, settings)
    data = report.data
    assert data["held_back_from"] == "feedback" and data["n_held_back_feedback"] == 8
    # The champion was not taught the held-back messages before being judged on them.
    assert report.champion["feedback_caught_up"] == 40 - 8
    assert report.challenger["feedback_caught_up"] == 0
    # Kept as fitted, plus the held-back feedback learned online: nothing forgotten.
    model = load_model(ModelRegistry(tmp_path / "models").path(report.version))
    assert model.classifier.nb_class_count_.sum() == data["n_train"] + 8 == 40


def test_force_activates_whatever_the_rule_says_and_activate_rolls_back(
        tmp_path: Path, corpus: Path, counting_champion: SpamModel, settings: Settings,
        mail_factory: Callable[..., Mail]) -> None:
    registry = with_champion(tmp_path, counting_champion)
    give(tmp_path, settings, [(raw, "ham") for raw, _ in mail_factory(0, 20, seed=3)])
    runner = CliRunner()
    args = ["retrain", "--data-dir", str(tmp_path), "--index", str(corpus),
            "--split-column", "split"]
    env = {"SPAMSIFT_TARGET_FPR": "0.01", "SPAMSIFT_UNSURE_FPR": "0.1", "SPAMSIFT_N_JOBS": "1"}
    kept = runner.invoke(app, [*args, "--json"], env=env)
    assert kept.exit_code == 0, kept.output
    assert json.loads(kept.stdout)["decision"] == "kept"
    forced = runner.invoke(app, [*args, "--force"], env=env)
    assert forced.exit_code == 0, forced.output
    text = " ".join(forced.stdout.split())
    assert "forced" in text and "misses more spam" in text
    new = registry.active()
    assert new not in (None, "champion") and new in text
    back = runner.invoke(app, ["models", "activate", "champion", "--registry",
                               str(tmp_path / "models")])
    assert back.exit_code == 0 and registry.active() == "champion"


def test_a_second_retrain_on_the_same_folder_is_refused(tmp_path: Path,
                                                         settings: Settings) -> None:
    with retrain_module._exclusive(tmp_path), pytest.raises(TrainingError,
                                                            match="another retrain"):
        retrain(tmp_path, settings)


@pytest.mark.parametrize("kill_after", [
    pytest.param("training the challenger", id="while-training"),
    pytest.param("pausing", id="just-before-activation"),
])
def test_sigkill_leaves_the_previous_model_serving_and_the_feedback_whole(
        tmp_path: Path, corpus: Path, weak_champion: SpamModel, settings: Settings,
        mail_factory: Callable[..., Mail], kill_after: str) -> None:
    data = tmp_path / "data"
    registry = with_champion(data, weak_champion)
    give(data, settings, mail_factory(3, 3, seed=9))
    before = open_stores_counts(data, settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    env[PAUSE_ENV] = "60"
    proc = subprocess.Popen(
        [sys.executable, "-m", "spamsift.cli", "retrain", "--data-dir", str(data),
         "--index", str(corpus), "--split-column", "split"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr or []],
                              daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        while not any(kill_after in ln for ln in seen):
            seen.append(lines.get(timeout=60))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
        reader.join(timeout=10)
        if proc.stderr:
            proc.stderr.close()
    assert registry.active() == "champion"
    versions = registry.versions()
    assert all(v.problem is None for v in versions)
    assert [v.version for v in versions if v.is_active] == ["champion"]
    # Killed while fitting there is no new version; killed later (a slow machine) at
    # most a whole, inactive one. Killed at the pause, there is exactly that.
    assert len(versions) == 2 if kill_after == "pausing" else len(versions) in (1, 2)
    assert open_stores_counts(data, settings) == before
    with TestClient(build_app(data, settings, stores=open_stores)) as client:
        assert readyz(client) == "champion"
        assert client.post("/v1/classify", content=b"Subject: x\n\ny").status_code == 200
        served = client.app.state.spamsift.holder.current.model  # type: ignore[attr-defined]
    # ... and it has learned every feedback message on top of its own 8.
    assert served.classifier.nb_class_count_.sum() == 8 + 6
    # The dead process's lock went with it.
    assert retrain(data, settings, corpus_index=corpus, split_column="split").version


def test_the_server_schedule_retrains_and_serves_the_promoted_model(
        tmp_path: Path, corpus: Path, weak_champion: SpamModel, settings: Settings) -> None:
    with_champion(tmp_path, weak_champion)
    # Every 0.5 s; the corpus (all 80 rows, no split column) comes from corpus_root.
    scheduled = settings.model_copy(update={"retrain_interval_hours": 0.5 / 3600,
                                            "corpus_root": corpus.parent})
    app_ = build_app(tmp_path, scheduled, stores=open_stores)
    try:
        with TestClient(app_) as client:
            assert readyz(client) == "champion"
            deadline = time.monotonic() + 20
            while readyz(client) == "champion" and time.monotonic() < deadline:
                time.sleep(0.1)
            served = readyz(client)
    finally:
        app_.state.retrain_schedule.set()
    assert served != "champion"
    report = json.loads((tmp_path / "retrain-reports" / f"{served}.json").read_text())
    assert report["decision"] == "promoted" and report["data"]["corpus_rows"] == 80


def test_no_schedule_unless_asked(tmp_path: Path, settings: Settings) -> None:
    assert not hasattr(build_app(tmp_path, settings).state, "retrain_schedule")


def _m(fpr: float, fnr: float, oracle: float) -> dict[str, float]:
    return {"fpr": fpr, "fnr": fnr, "fnr_at_target": oracle, "fp": 0}


@pytest.mark.parametrize(("challenger", "champion", "promoted", "why"), [
    pytest.param(_m(0, 0.05, 0.02), _m(0, 0.05, 0.02), True, "not worse", id="tie"),
    pytest.param(_m(0, 0.054, 0.024), _m(0, 0.05, 0.02), True, "not worse",
                 id="within-tolerance"),
    pytest.param(_m(0, 0.05, 0.03), _m(0, 0.05, 0.02), False, "ranks worse", id="ranks-worse"),
    pytest.param(_m(0.02, 0.01, 0.01), _m(0, 0.05, 0.02), False, "more false positives",
                 id="over-the-fp-budget"),
    pytest.param(_m(0.02, 0.01, 0.01), _m(0.03, 0.05, 0.02), True, "not worse",
                 id="fewer-fps-than-an-over-budget-champion"),
    pytest.param(_m(0, 0.2, 0.02), _m(0, 0.05, 0.02), False, "misses more spam",
                 id="misses-more-at-its-cutoff"),
    pytest.param(_m(0, 0.9, 0.02), _m(0.5, 0, 0.02), True, "not worse",
                 id="champion-buys-its-catch-rate-with-fps"),
])
def test_decide(challenger: dict[str, float], champion: dict[str, float], promoted: bool,
                why: str, settings: Settings) -> None:
    ok, reason = decide(challenger, champion, settings)
    assert ok is promoted and reason.startswith(why)


def test_held_back_is_stratified_seeded_and_needs_both_classes() -> None:
    y = np.array([0] * 30 + [1] * 10)
    keys = [f"m{i}" for i in range(40)]
    mask = held_back(y, keys, 0.2, seed=0)
    assert (mask[y == 0].sum(), mask[y == 1].sum()) == (6, 2)
    assert np.array_equal(mask, held_back(y, keys, 0.2, seed=0))
    assert not np.array_equal(mask, held_back(y, keys, 0.2, seed=1))
    # A message's rank is its own: reordering the rows moves its mask with it.
    order = np.random.default_rng(0).permutation(40)
    assert np.array_equal(held_back(y[order], [keys[i] for i in order], 0.2, 0), mask[order])
    with pytest.raises(TrainingError, match="at least 2 spam"):
        held_back(np.array([0, 0, 1]), ["a", "b", "c"], 0.2, seed=0)


def test_on_postgresql_a_promotion_is_in_the_shared_registry(
        tmp_path: Path, corpus: Path, weak_champion: SpamModel, settings: Settings,
        pg_url: str) -> None:
    from spamsift.datadir import prepare_data_dir
    from spamsift.feedback import Database
    from spamsift.models.db_registry import DatabaseRegistry
    from spamsift.serving.model_holder import ModelHolder

    shared = settings.model_copy(update={"database_url": pg_url})
    db = Database(pg_url)
    try:
        elsewhere = DatabaseRegistry(db, tmp_path / "other" / "models" / "shared")
        elsewhere.activate(elsewhere.add(lambda p: save_model(weak_champion, p),
                                         version="champion"))
        report = retrain(tmp_path / "a", shared, corpus_index=corpus, corpus_root=None,
                         split_column="split")
        assert report.promoted and report.previous_version == "champion"
        assert elsewhere.active() == report.version  # what another replica sees
        replica = ModelHolder(prepare_data_dir(tmp_path / "b", database=db))
        assert replica.reload().version == report.version
        assert not (tmp_path / "a" / "models" / "versions").exists()  # no folder registry
    finally:
        db.close()


def test_retracted_feedback_leaves_no_trace_in_the_next_retrain(
        tmp_path: Path, corpus: Path, weak_champion: SpamModel, settings: Settings,
        mail_factory: Callable[..., Mail]) -> None:
    """The margin members' feedback steps cannot be undone by the opposite step; the
    retrain that follows a retraction refits them on the effective labels, so its
    model is the one trained as if the feedback had never been given."""
    now = datetime.now(UTC)
    clean, taught = tmp_path / "clean", tmp_path / "taught"
    for d in (clean, taught):
        with_champion(d, weak_champion)
    wrong = [(raw, "ham" if label == "spam" else "spam")
             for raw, label in mail_factory(6, 6, seed=12)]
    with FeedbackStore(resolve_url(settings.database_url, taught),
                       clock=lambda: now - timedelta(hours=1)) as store:
        events = [store.add_feedback(raw, label=label, user="ann") for raw, label in wrong]
        for ev in events:
            store.retract(ev.event_id)
    reports = [retrain(d, settings, corpus_index=corpus, corpus_root=None,
                       split_column="split", now=now) for d in (clean, taught)]
    assert reports[1].data["feedback_rows"] == 0
    models = [load_model(ModelRegistry(d / "models").path(r.version))
              for d, r in zip((clean, taught), reports, strict=True)]
    probe = [raw for raw, _ in wrong]
    X = models[0].featurizer.transform(probe)
    np.testing.assert_allclose(models[1].classifier.decision_function(X),
                               models[0].classifier.decision_function(X), rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def any_site_champion(mail_factory: Callable[..., Mail], settings: Settings) -> SpamModel:
    """A model for any site, as the bundled one: no site evidence, identity weight 0."""
    featurizer = MessageFeaturizer(token_bits=12, reputation_bits=8, site_evidence=False)
    mail = mail_factory(4, 4, seed=5)
    X = featurizer.transform([raw for raw, _ in mail])
    y = np.array([int(label == "spam") for _, label in mail])
    params = {k: v for k, v in PARAMS.items() if k != "rep_weight"}
    model, _ = fit_model(featurizer, X, y, settings,
                         TrainOptions(learning_curve=False, params=params))
    assert model.classifier.rep_weight == 0
    return model


def test_identity_turns_on_only_with_enough_of_the_sites_own_rows(
        settings: Settings) -> None:
    off = MessageFeaturizer(site_evidence=False)
    enough = np.r_[np.zeros(450), np.ones(50)]
    assert retrain_module.identity_turns_on(off, enough, settings)
    assert not retrain_module.identity_turns_on(off, enough[1:], settings)  # 499 rows
    assert not retrain_module.identity_turns_on(off, np.r_[np.zeros(460), np.ones(49)],
                                                settings)  # 49 spam
    assert not retrain_module.identity_turns_on(off, np.zeros(0), settings)  # no rows
    assert not retrain_module.identity_turns_on(MessageFeaturizer(), enough, settings)
    site_off = settings.model_copy(update={"site_evidence": False})
    assert not retrain_module.identity_turns_on(off, enough, site_off)


@pytest.mark.parametrize("rows", [40, 1000])
def test_a_retrain_from_a_model_for_any_site_learns_identity_from_the_sites_rows(
        rows: int, tmp_path: Path, corpus: Path, any_site_champion: SpamModel,
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the threshold the challenger reads sender identity (fitted weights on the
    reputation block); short of it, it stays a model for any site."""
    monkeypatch.setattr(retrain_module, "IDENTITY_ROWS", rows)
    monkeypatch.setattr(retrain_module, "IDENTITY_PER_CLASS", 5)
    registry = with_champion(tmp_path, any_site_champion)
    report = retrain(tmp_path, settings, corpus_index=corpus, corpus_root=None,
                     split_column="split", force=True)
    model = load_model(registry.path(report.version))
    turned = rows <= report.data["n_train"]
    assert model.featurizer.site_evidence is turned
    assert ("site_evidence" in report.data) is turned
    # The reputation block's weight in the fitted model: none in a model for any site.
    assert model.classifier.rep_weight == (0.1 if turned else 0.0)
    assert (model.classifier.block_weights()[1] > 0) is turned
