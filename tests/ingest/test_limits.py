"""Tests for spamsift.ingest.limits."""

from __future__ import annotations

import io

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest.limits import DEFAULT_MAX_BYTES, capped_meta, check_max_bytes, read_capped


@pytest.mark.parametrize(
    ("data", "cap", "expected"),
    [
        pytest.param(b"abcdef", 10, (b"abcdef", False), id="under"),
        pytest.param(b"abcdef", 6, (b"abcdef", False), id="exactly"),
        pytest.param(b"abcdef", 5, (b"abcde", True), id="over-by-one"),
        pytest.param(b"", 5, (b"", False), id="empty"),
    ],
)
def test_read_capped(data: bytes, cap: int, expected: tuple[bytes, bool]) -> None:
    assert read_capped(io.BufferedReader(io.BytesIO(data)), cap) == expected


def test_read_capped_leaves_the_rest_unread() -> None:
    stream = io.BytesIO(b"x" * 1000)
    read_capped(stream, 10)
    assert stream.tell() == 11


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True, None])
def test_check_max_bytes_refuses(bad: object) -> None:
    with pytest.raises(IngestError, match="max_bytes must be a positive number"):
        check_max_bytes(bad)  # type: ignore[arg-type]


def test_default_is_50_mib() -> None:
    assert check_max_bytes(DEFAULT_MAX_BYTES) == 50 * 1024 * 1024


def test_capped_meta() -> None:
    assert capped_meta({"era": "x"}, True) == {"era": "x", "truncated": "1"}
    assert capped_meta({}, False) == {}
