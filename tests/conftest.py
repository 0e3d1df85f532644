"""Fixtures shared by the model, training, serving and CLI tests.

A small labelled mail set written by hand: a few ham and spam templates filled
with words, names and senders drawn from a seeded generator, so every run sees
the same 40 ham and 40 spam. The feature space is kept small (2**14 token
columns, 2**10 per reputation key) so fitting takes a fraction of a second.

Tests marked ``needs(...)`` (real mail software, the milter extra) and those using
the PostgreSQL fixtures run only where the machine has what they need:
:func:`needs.require` skips them otherwise, or fails them under ``CI=true``.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import random
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from needs import require
from spamsift.config import Settings, load_settings
from spamsift.features import batch as batch_module
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.models.classifier import SpamClassifier
from spamsift.models.spam_model import SpamModel
from spamsift.training.trainer import TrainOptions, fit_model

TOKEN_BITS = 14
REPUTATION_BITS = 10

_HAM_SUBJECTS = (
    "Minutes of the {topic} meeting",
    "Re: {topic} patch review",
    "Lunch on {day}?",
    "Draft agenda for the {topic} review",
    "Re: question about the {topic} build",
)
_HAM_BODIES = (
    "Hi {name},\n\nThanks for the notes on {topic}. I pushed a fix to the {topic} branch;\n"
    "the tests pass on my machine. Could you review it before {day}?\n\nCheers,\n{me}\n",
    "{name},\n\nThe {topic} meeting moved to {day} afternoon. Please bring the quarterly\n"
    "figures and the draft of the design document.\n\nThanks,\n{me}\n",
    "Hello {name},\n\nI read your comments about {topic}. The profiler shows most time\n"
    "spent in the {topic} module, so I will refactor it next week.\n\n{me}\n",
)
_SPAM_SUBJECTS = (
    "FREE {prize} - act now!!!",
    "You have WON a {prize}",
    "Cheap {drug} online, no prescription",
    "Make ${money} a week from home",
    "URGENT: claim your {prize} today",
)
_SPAM_BODIES = (
    "Dear friend,\n\nCONGRATULATIONS! You have been selected to receive a FREE {prize}.\n"
    "Click here http://{host}/claim?id={n} to claim your prize. Limited offer, act now!\n"
    "To unsubscribe reply REMOVE.\n",
    "Buy cheap {drug} online! Lowest price guaranteed, no prescription needed.\n"
    "Order now at http://{host}/shop and save 80%. Money back guarantee!!!\n",
    "Earn ${money} per week working from home. No experience needed, guaranteed income.\n"
    "Visit http://{host}/join to start your business today. Click here to remove.\n",
)
_TOPICS = ("release", "budget", "kernel", "database", "parser", "roadmap", "hiring", "backup")
_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_PRIZES = ("iPhone", "vacation", "gift card", "laptop", "cruise")
_DRUGS = ("viagra", "cialis", "meds", "pills")
_HOSTS = ("cheap-deals.biz", "win-big.info", "bestoffer.ru", "clickhere.cn", "promo-mail.top")
_START = datetime(2002, 3, 1, 9, 0, tzinfo=UTC)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        require(*mark.args)
    # A skip raised in a fixture is reported at each test; raised here, pytest's summary
    # folds every PostgreSQL test (tests/feedback/conftest.py's fixtures) into one line.
    if "pg_server_url" in getattr(item, "fixturenames", ()):
        require("postgresql")


def make_message(kind: str, i: int, rng: random.Random, when: datetime) -> bytes:
    """One ham or spam message from the templates; ``i`` makes its Message-ID unique."""
    if kind == "ham":
        name, me = rng.sample(_NAMES, 2)
        f: dict[str, Any] = {"topic": rng.choice(_TOPICS), "name": name.title(),
                             "me": me.title(), "day": rng.choice(_DAYS)}
        sender = f"{me.title()} <{me}@example.org>"
        extra = "X-Mailer: Mutt/1.5.4i\n"
        subject, body = rng.choice(_HAM_SUBJECTS), rng.choice(_HAM_BODIES)
    elif kind == "spam":
        f = {"prize": rng.choice(_PRIZES), "drug": rng.choice(_DRUGS),
             "money": rng.randrange(1000, 9000), "host": rng.choice(_HOSTS),
             "n": rng.randrange(10**6)}
        sender = f"Winner <promo{rng.randrange(1000)}@{rng.choice(_HOSTS)}>"
        extra = ""
        subject, body = rng.choice(_SPAM_SUBJECTS), rng.choice(_SPAM_BODIES)
    else:
        raise ValueError(f"kind must be 'ham' or 'spam', got {kind!r}")
    return (f"From: {sender}\nTo: someone@example.org\nSubject: {subject.format(**f)}\n"
            f"Date: {format_datetime(when)}\nMessage-ID: <{kind}{i}@example.org>\n{extra}\n"
            f"{body.format(**f)}").encode()


def make_mail_set(n_ham: int = 40, n_spam: int = 40, seed: int = 0) -> list[tuple[bytes, str]]:
    """``(raw bytes, label)`` pairs, ham and spam interleaved, dated an hour apart in order."""
    rng = random.Random(seed)
    kinds = [k for pair in zip_longest(["ham"] * n_ham, ["spam"] * n_spam) for k in pair if k]
    return [(make_message(kind, i, rng, _START + timedelta(hours=i)), kind)
            for i, kind in enumerate(kinds)]


def write_index(root: Path, mail: list[tuple[bytes, str]], test_every: int = 4,
                column: str = "split") -> Path:
    """Write each message to ``root/<label>/NNN.eml`` and an index CSV beside them.

    Every ``test_every``-th message of each label is a test row of ``column``.
    """
    root.mkdir(parents=True, exist_ok=True)
    index = root / "index.csv"
    seen = {"ham": 0, "spam": 0}
    with open(index, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["path", "label", column])
        for data, label in mail:
            k = seen[label]
            seen[label] += 1
            rel = f"{label}/{k:03d}.eml"
            (root / label).mkdir(exist_ok=True)
            (root / rel).write_bytes(data)
            w.writerow([rel, label, "test" if k % test_every == 0 else "train"])
    return index


def _stop_kept_workers() -> None:
    """Shut the featurising workers earlier tests left running (the fork pools kept for
    later calls, loky's executor): their manager threads would keep this process from
    forking. Later calls start new ones."""
    from joblib.externals.loky import reusable_executor

    for pool in batch_module._POOLS.values():
        pool.shutdown()
    batch_module._POOLS.clear()
    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


@pytest.fixture(params=["main-thread-only", "with-another-thread"])
def threads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[dict[int, ProcessPoolExecutor]]:
    """A process alone with its main thread forks its featurising workers (and keeps
    them); one with other threads (a server retraining) spawns them through loky
    (spamsift.features.batch). Yields this test's own table of kept pools, so the path
    taken is the one the case names."""
    if request.param == "main-thread-only":
        _stop_kept_workers()
    pools: dict[int, ProcessPoolExecutor] = {}
    monkeypatch.setattr(batch_module, "_POOLS", pools)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    if request.param == "with-another-thread":
        other.start()
    elif threading.active_count() > 1:
        pytest.skip(f"this test process runs threads: "
                    f"{[t.name for t in threading.enumerate()]}")
    yield pools
    stop.set()
    for pool in pools.values():
        pool.shutdown()
    if other.is_alive():
        other.join()


_WORK = batch_module._work


def _killed_in_a_worker(*args: Any) -> Any:
    """``batch._work`` as the out-of-memory killer leaves it: each worker process is
    SIGKILLed at its first chunk; the parent process works as usual. Top-level, so
    that forked and spawned workers alike find it by name."""
    if multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return _WORK(*args)


@pytest.fixture
def workers_killed(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """A switch: on, every featurising worker process dies mid-chunk (SIGKILL, as from
    the out-of-memory killer) through the real pool paths of spamsift.features.batch;
    off, they work again."""
    def switch(on: bool) -> None:
        monkeypatch.setattr(batch_module, "_work", _killed_in_a_worker if on else _WORK)
    return switch


@pytest.fixture(scope="session")
def mail_factory() -> Callable[..., list[tuple[bytes, str]]]:
    """:func:`make_mail_set`, for tests that need another size or seed."""
    return make_mail_set


@pytest.fixture(scope="session")
def index_writer() -> Callable[..., Path]:
    """:func:`write_index`: message files and an index CSV under a folder."""
    return write_index


@pytest.fixture(scope="session")
def mail_set() -> list[tuple[bytes, str]]:
    return make_mail_set()


@pytest.fixture(scope="session")
def small_featurizer() -> MessageFeaturizer:
    return MessageFeaturizer(token_bits=TOKEN_BITS, reputation_bits=REPUTATION_BITS)


@pytest.fixture(scope="session")
def small_layout(small_featurizer: MessageFeaturizer) -> dict[str, int]:
    """The SpamClassifier parameters that match ``small_featurizer``."""
    return {"token_bits": TOKEN_BITS, "n_structure": small_featurizer.layout.n_structure,
            "reputation_bits": REPUTATION_BITS}


@pytest.fixture(scope="session")
def small_xy(mail_set: list[tuple[bytes, str]], small_featurizer: MessageFeaturizer
             ) -> tuple[sp.csr_matrix, np.ndarray]:
    X = small_featurizer.transform([data for data, _ in mail_set])
    y = np.array([int(label == "spam") for _, label in mail_set])
    return X, y


@pytest.fixture(scope="session")
def fitted_classifier(small_xy: tuple[sp.csr_matrix, np.ndarray], small_layout: dict[str, int]
                      ) -> SpamClassifier:
    """The default stack (nb+svm), fitted on the whole small set. Do not refit it."""
    X, y = small_xy
    return SpamClassifier(model="nb+svm", **small_layout).fit(X, y)


@pytest.fixture(scope="session")
def small_settings() -> Settings:
    return load_settings(target_fpr=0.01, unsure_fpr=0.1, seed=0)


@pytest.fixture(scope="session")
def small_model(small_xy: tuple[sp.csr_matrix, np.ndarray], small_featurizer: MessageFeaturizer,
                small_settings: Settings) -> SpamModel:
    """A SpamModel trained by ``fit_model`` on the small set. Do not mutate it."""
    X, y = small_xy
    # Parameters pinned: the corpus-tuned defaults (aux_weight 0.1) are for thousands of
    # messages; on 80 hand-made ones the structure block needs its louder voice.
    model, _ = fit_model(small_featurizer, X, y, small_settings,
                         TrainOptions(learning_curve=False,
                                      params={"model": "nb+svm", "aux_weight": 0.5,
                                              "rep_weight": None,
                                              "C_svm": 3.0}))
    return model
