"""The feedback tests' database fixtures (a fresh SQLite file, a fresh PostgreSQL
schema), for the tests here that need a real store."""

from feedback.conftest import db_url, pg_server_url, pg_url  # noqa: F401
