"""API keys: creation, verification, scopes, revocation, and hashing at rest."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from spamsift.db.schema import api_keys
from spamsift.exceptions import InputError
from spamsift.feedback import KeyStore, NotFoundError

from .conftest import sqlite_url


@pytest.fixture
def keys(db_url: str) -> Iterator[KeyStore]:
    with KeyStore(db_url) as ks:
        yield ks


def test_create_and_verify(keys: KeyStore) -> None:
    key_id, key = keys.create({"feedback"}, name="mail server")
    assert re.fullmatch(r"ss_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", key)
    assert key.startswith(f"ss_{key_id}_")
    info = keys.verify(key)
    assert info is not None
    assert (info.id, info.name, info.scopes, info.granted) == (
        key_id, "mail server", {"feedback"}, {"feedback"})


def test_admin_implies_the_other_scopes(keys: KeyStore) -> None:
    _, key = keys.create(["admin"])
    info = keys.verify(key)
    assert info is not None
    assert info.scopes == {"admin", "classify", "read", "feedback"}
    assert info.granted == {"admin"}


def test_several_scopes_and_a_bare_string(keys: KeyStore) -> None:
    info = keys.verify(keys.create(["classify", "Feedback"])[1])
    assert info is not None and info.scopes == {"classify", "feedback"}
    info = keys.verify(keys.create("classify")[1])
    assert info is not None and info.scopes == {"classify"}


@pytest.mark.parametrize("scopes", [set(), {"root"}, {"feedback", "write"}],
                         ids=["none", "unknown", "one-unknown"])
def test_unknown_scopes_are_refused(keys: KeyStore, scopes: set[str]) -> None:
    with pytest.raises(InputError, match="expected one or more of classify, read, feedback, admin"):
        keys.create(scopes)
    assert keys.list() == []


def test_wrong_keys_fail(keys: KeyStore) -> None:
    key_id, key = keys.create({"classify"})
    other_id, _ = keys.create({"classify"})
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
    for bad in (flipped, key.replace(key_id, other_id), key[:-1], "", "ss_", "Bearer " + key,
                key.upper()):
        assert keys.verify(bad) is None, bad
    assert keys.verify(f"  {key}\n") is not None  # pasted with whitespace


def test_revoke(keys: KeyStore) -> None:
    key_id, key = keys.create({"feedback"})
    keep_id, keep = keys.create({"feedback"})
    assert keys.revoke(key_id) is True
    assert keys.verify(key) is None and keys.verify(keep) is not None
    assert keys.revoke(key_id) is False  # already revoked: nothing changes
    listed = {r.id: r for r in keys.list()}
    assert listed[key_id].revoked_at is not None and listed[keep_id].revoked_at is None
    with pytest.raises(NotFoundError, match="no API key"):
        keys.revoke("000000000000")


def test_list_shows_prefixes_not_keys(keys: KeyStore) -> None:
    key_id, key = keys.create({"admin"}, name="ops")
    [r] = keys.list()
    assert (r.id, r.name, r.scopes) == (key_id, "ops", {"admin"})
    assert key.startswith(r.prefix) and len(r.prefix) < len(key) // 2


def test_only_the_hash_is_stored(keys: KeyStore) -> None:
    _, key = keys.create({"feedback"})
    with keys.db.read() as conn:
        [row] = conn.execute(select(api_keys)).all()
    assert row.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    assert not any(key in str(v) for v in row)


def test_secret_never_reaches_the_database_file(tmp_path: Path) -> None:
    with KeyStore(sqlite_url(tmp_path)) as ks:
        _, key = ks.create({"feedback"})
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert hashlib.sha256(key.encode()).hexdigest().encode() in on_disk  # we read the right files
    secret = key[len("ss_") + 12 + 1 :]
    assert key.encode() not in on_disk and secret.encode() not in on_disk
