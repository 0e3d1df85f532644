"""The registry shared in the database: rows with a checksum, one active pointer.

Runs on SQLite and on a real PostgreSQL server (the interface is the same; the
servers use it on PostgreSQL). Two caches on one database stand for two replicas.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from feedback.conftest import db_url, pg_server_url, pg_url
from spamsift.exceptions import ModelError, ModelIntegrityError
from spamsift.feedback import Database
from spamsift.models.artifact import save_artifact
from spamsift.models.db_registry import DatabaseRegistry
from spamsift.models.persistence import save_model
from spamsift.models.spam_model import SpamModel
from spamsift.serving.model_holder import ModelHolder

# The feedback tests' database fixtures (a fresh SQLite file, a fresh PostgreSQL schema),
# requested here by name; tests/models has no conftest of its own to hold them.
_FIXTURES = (db_url, pg_server_url, pg_url)


def builder(coef: float, **manifest: object):
    return lambda path: save_artifact(path, manifest=manifest, arrays={"coef": np.array([coef])})


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    yield d
    d.close()


def test_add_activate_and_read_from_another_cache(db: Database, tmp_path: Path) -> None:
    a = DatabaseRegistry(db, tmp_path / "a")
    b = DatabaseRegistry(db, tmp_path / "b")
    assert a.versions() == [] and a.active() is None
    with pytest.raises(ModelError, match="no active version"):
        a.load_active()
    a.add(builder(1.0, metrics={"auc": 0.9}), version="v1")
    a.add(builder(2.0), version="v2")
    a.activate("v1")
    assert b.active() == "v1"
    manifest, arrays = b.load_active()  # fetched into b's cache, verified
    assert arrays["coef"].tolist() == [1.0] and (tmp_path / "b" / "v1").is_dir()
    infos = b.versions()
    assert [(v.version, v.is_active, v.metrics) for v in infos] == [
        ("v1", True, {"auc": 0.9}), ("v2", False, {})]
    b.activate("v2")  # roll forward from the other side
    assert a.active() == "v2"


def test_bad_and_taken_names_and_unknown_versions(db: Database, tmp_path: Path) -> None:
    reg = DatabaseRegistry(db, tmp_path / "c")
    reg.add(builder(1.0), version="v1")
    with pytest.raises(ModelError, match="already exists"):
        reg.add(builder(1.0), version="v1")
    with pytest.raises(ModelError, match="version: expected"):
        reg.path("../etc")
    with pytest.raises(ModelError, match="unknown version 'v9'.*v1"):
        reg.activate("v9")
    assert reg.active() is None


@pytest.mark.parametrize("damage", [
    pytest.param("UPDATE model_versions SET arrays = :cut", id="truncated-arrays"),
    pytest.param("UPDATE model_versions SET sha256 = :bad", id="wrong-checksum"),
])
def test_a_damaged_row_is_never_loaded(db: Database, tmp_path: Path, small_model: SpamModel,
                                       damage: str) -> None:
    reg = DatabaseRegistry(db, tmp_path / "w")
    reg.add(lambda p: save_model(small_model, p), version="good")
    reg.add(lambda p: save_model(dataclasses.replace(small_model, spam_cutoff=0.999), p),
            version="bad")
    reg.activate("good")
    with db.write() as conn:
        conn.execute(text(damage + " WHERE version = 'bad'"),
                     {"cut": b"PK\x03\x04", "bad": "0" * 64})
        # As another writer would, bypassing activate's check: the pointer names it.
        conn.execute(text("UPDATE model_active SET version = 'bad'"))
    replica = ModelHolder(DatabaseRegistry(db, tmp_path / "r"))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        replica.reload()
    serving = ModelHolder(DatabaseRegistry(db, tmp_path / "s"))
    with db.write() as conn:
        conn.execute(text("UPDATE model_active SET version = 'good'"))
    assert serving.reload().version == "good"
    with db.write() as conn:
        conn.execute(text("UPDATE model_active SET version = 'bad'"))
    with pytest.raises(ModelIntegrityError):
        serving.refresh()
    assert serving.current.version == "good"  # still serving the previous version
    assert not (tmp_path / "s" / "bad").exists()  # and nothing half-written is cached
    with pytest.raises(ModelIntegrityError):
        DatabaseRegistry(db, tmp_path / "t").activate("bad")


_WRITER = """
import sys, time
from sqlalchemy import text
from spamsift.feedback import Database
from spamsift.models.db_registry import _insert, _point
db = Database(sys.argv[1])
with db.write() as conn:
    _insert(conn, "half", b"{}", b"x" * (1 << 20))
    _point(conn, "half")
    print("written", flush=True)
    time.sleep(600)  # killed here, before the commit
"""


def test_a_writer_killed_mid_write_leaves_the_previous_version(db: Database, db_url: str,
                                                              tmp_path: Path) -> None:
    reg = DatabaseRegistry(db, tmp_path / "k")
    reg.add(builder(1.0), version="v1")
    reg.activate("v1")
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, db_url], stdout=subprocess.PIPE,
                            env={**os.environ})
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"written\n"
        if db.backend == "postgresql":  # SQLite's writer holds the lock: readers see v1 too
            assert reg.active() == "v1"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    deadline = time.monotonic() + 20
    while True:  # PostgreSQL ends the dead client's session on its own time
        try:
            assert reg.active() == "v1"
            break
        except Exception:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert [v.version for v in reg.versions()] == ["v1"]


def test_seeding_happens_once(db: Database, tmp_path: Path) -> None:
    first = save_artifact(tmp_path / "first", manifest={}, arrays={"coef": np.ones(1)})
    a, b = DatabaseRegistry(db, tmp_path / "a"), DatabaseRegistry(db, tmp_path / "b")
    assert a.seed(lambda: first) is True
    assert b.seed(lambda: first) is False
    assert len(b.versions()) == 1 and b.active() == a.active()
