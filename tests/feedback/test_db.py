"""Opening databases: URLs, SQLite settings, migrations, concurrent first open, retries."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError

from spamsift.db.schema import VERSION_TABLE, metadata
from spamsift.exceptions import ConfigError
from spamsift.feedback import Database, FeedbackStore, StoreError, default_url, resolve_url

from ._helpers import message
from .conftest import sqlite_url

TABLES = {"messages", "feedback_events", "labels", "classifications", "api_keys",
          "label_changes", "model_versions", "model_active", VERSION_TABLE}
HEAD = "0003"


def version(db: Database) -> str | None:
    with db.read() as conn:
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one()


def test_fresh_database_is_migrated(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert TABLES <= set(inspect(db.engine).get_table_names())
        assert version(db) == HEAD
    finally:
        db.close()


def test_reopening_migrates_nothing_and_keeps_data(db_url: str) -> None:
    with FeedbackStore(db_url) as store:
        store.add_feedback(message(1), label="spam")
    db = Database(db_url)
    try:
        with db.read() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
        assert version(db) == HEAD
        assert FeedbackStore(db).counts().events == 1
    finally:
        db.close()


def test_schema_module_matches_the_migrations(db_url: str) -> None:
    """A change to schema.py without a migration (or the reverse) shows up here."""
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(ctx, metadata) == []
    finally:
        db.close()


def test_database_from_a_newer_spamsift_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    Database(url).close()
    with sqlite3.connect(tmp_path / "spamsift.db") as conn:
        conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    conn.close()
    with pytest.raises(StoreError, match="newer spamsift"):
        Database(url)


def test_sqlite_settings(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path), busy_timeout=7)
    try:
        with db.read() as conn:
            got = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                   for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
    finally:
        db.close()
    assert got == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                   "busy_timeout": 7000}


def test_sqlite_writes_take_the_lock_up_front(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a write transaction holds SQLite's write lock from its start."""
    db = Database(sqlite_url(tmp_path), busy_timeout=0.05)
    try:
        with db.write():
            other = sqlite3.connect(tmp_path / "spamsift.db", timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
    finally:
        db.close()


def test_sqlite_lock_held_elsewhere_is_waited_out(tmp_path: Path) -> None:
    """Another process's write lock, held longer than the busy timeout, is retried."""
    url = sqlite_url(tmp_path)
    Database(url).close()
    holder = sqlite3.connect(tmp_path / "spamsift.db", isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with FeedbackStore(Database(url, busy_timeout=0.02)) as store:
            t0 = time.monotonic()
            store.add_feedback(message(1), label="ham")
            assert time.monotonic() - t0 >= 0.25
            assert store.counts().events == 1
            store.db.close()
    finally:
        release.join()
        holder.close()


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("backend", "error", "retried"),
    [
        pytest.param("sqlite", OperationalError("x", {}, sqlite3.OperationalError(
            "database is locked")), True, id="sqlite-locked"),
        pytest.param("sqlite", OperationalError("x", {}, sqlite3.OperationalError(
            "no such table: t")), False, id="sqlite-other"),
        pytest.param("postgresql", OperationalError("x", {}, _PgError("40001")), True,
                     id="pg-serialization"),
        pytest.param("postgresql", OperationalError("x", {}, _PgError("40P01")), True,
                     id="pg-deadlock"),
        pytest.param("postgresql", OperationalError("x", {}, _PgError("42P01")), False,
                     id="pg-other"),
        pytest.param("sqlite", IntegrityError("x", {}, sqlite3.IntegrityError("UNIQUE")), False,
                     id="integrity-not-asked"),
    ],
)
def test_transient_errors_are_retried(tmp_path: Path, backend: str, error: Exception,
                                      retried: bool) -> None:
    db = Database(sqlite_url(tmp_path), max_attempts=3)
    db.backend = backend  # the classification is all that is under test
    calls = []

    def flaky(conn: Connection) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return "done"

    try:
        if retried:
            assert db.run(flaky, what="test") == "done" and len(calls) == 2
        else:
            with pytest.raises(StoreError, match="test failed"):
                db.run(flaky, what="test")
            assert len(calls) == 1
    finally:
        db.close()


def test_retries_are_bounded(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path), max_attempts=3)

    def always_locked(conn: Connection) -> None:
        raise OperationalError("x", {}, sqlite3.OperationalError("database is locked"))

    try:
        with pytest.raises(StoreError, match="attempt 3 of 3"):
            db.run(always_locked, what="test")
    finally:
        db.close()


_OPEN = """
import sys
from spamsift.feedback import Database
sys.stdin.readline()
Database(sys.argv[1]).close()
"""


def test_concurrent_first_open_by_several_processes(db_url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN, db_url], stdin=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:  # all started (imports done, near enough) before any opens
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, errors = p.communicate(timeout=60)
        assert p.returncode == 0, errors
    db = Database(db_url, migrate=False)
    try:
        with db.read() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
        assert version(db) == HEAD
    finally:
        db.close()


@pytest.mark.parametrize(
    ("url", "match"),
    [
        pytest.param("mysql://u@h/db", "expected sqlite", id="other-backend"),
        pytest.param("sqlite://", "in-memory", id="memory"),
        pytest.param("sqlite:///:memory:", "in-memory", id="memory-explicit"),
        pytest.param("::not a url::", "not a URL", id="garbage"),
    ],
)
def test_bad_urls(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Database(url)


def test_plain_postgresql_url_means_psycopg(pg_url: str) -> None:
    db = Database(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert db.engine.dialect.driver == "psycopg" and "***" in db.url
    finally:
        db.close()


def test_url_from_data_dir(tmp_path: Path) -> None:
    assert default_url(tmp_path) == f"sqlite:///{tmp_path / 'spamsift.db'}"
    assert resolve_url("postgresql://h/db", tmp_path) == "postgresql://h/db"
    assert resolve_url(None, tmp_path) == default_url(tmp_path)
    with pytest.raises(ConfigError):
        resolve_url(None, None)


def test_data_dir_is_created(tmp_path: Path) -> None:
    Database(default_url(tmp_path / "a" / "b")).close()
    assert (tmp_path / "a" / "b" / "spamsift.db").is_file()


def test_migration_0003_keeps_older_classifications(db_url: str) -> None:
    """A store at 0002 gains the history's columns; its rows keep their subject."""
    db = Database(db_url)
    try:
        with FeedbackStore(db) as store:
            cid = store.record_classification(message(1, "old news"), 0.2, "ham", "v1")
            with db.write() as conn:  # back to schema 0002, the row and all
                for column in ("sender", "subject", "clues", "flags"):
                    conn.execute(text(f"ALTER TABLE classifications DROP COLUMN {column}"))
                conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0002'"))
            db.migrate()
            assert version(db) == HEAD
            old = store.get_classification(cid)
            assert old is not None
            assert (old.subject, old.sender, old.clues, old.flags) == ("old news", None, None,
                                                                      None)
            assert [c.id for c in store.classifications(text="news")] == [cid]
            new = store.record_classification(message(2), 0.9, "spam", "v1", clues=[("a", 1.0)])
            assert store.get_classification(new).sender == "someone2@example.org"  # type: ignore[union-attr]
    finally:
        db.close()


@pytest.mark.parametrize("url, backend", [
    pytest.param("sqlite:///x.db", "sqlite", id="sqlite"),
    pytest.param("postgresql://h/db", "postgresql", id="postgresql"),
    pytest.param("postgresql+psycopg://u:p@h:5432/db", "postgresql", id="with-driver"),
    pytest.param("postgres://h/db", "postgresql", id="postgres-scheme"),
    pytest.param("mysql+pymysql://h/db", "mysql", id="other"),
])
def test_url_backend_reads_the_url_as_sqlalchemy_does(url: str, backend: str) -> None:
    from spamsift.db import url_backend

    assert url_backend(url) == backend


def test_a_url_that_is_no_url_is_a_config_error() -> None:
    from spamsift.db import url_backend
    from spamsift.exceptions import ConfigError

    with pytest.raises(ConfigError, match="not a URL"):
        url_backend("not a url at all")
