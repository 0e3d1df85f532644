"""Fixtures: a fresh database per test, on SQLite and on a real PostgreSQL server.

PostgreSQL comes from ``SPAMSIFT_TEST_PG_URL`` (``make test`` starts a throwaway
server and sets it, ``scripts/with-postgres.sh``). Each test gets a schema of its own
in that database, made before and dropped after. Without the variable the PostgreSQL
cases are skipped, except under ``CI=true``, where they fail (:func:`needs.require`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from needs import PG_ENV, require
from spamsift.feedback import FeedbackStore

from ._helpers import Clock


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    require("postgresql")
    return os.environ[PG_ENV]


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A URL whose search_path is a new, empty schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'spamsift.db'}"


# The "postgresql" case of a backend parameter: needs the server (tests/needs.py).
POSTGRESQL = pytest.param("postgresql", marks=pytest.mark.needs("postgresql"))


@pytest.fixture(params=["sqlite", POSTGRESQL])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a new, empty database on each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[FeedbackStore]:
    with FeedbackStore(db_url, clock=clock) as s:
        yield s
