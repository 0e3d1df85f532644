"""Tests for spamsift.ingest.labels."""

from __future__ import annotations

import pytest

from spamsift.ingest import LABELS, normalise_label


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("spam", "spam", id="spam"),
        pytest.param("ham", "ham", id="ham"),
        pytest.param(" SPAM\n", "spam", id="case-and-space"),
        pytest.param("Ham", "ham", id="title-case"),
        pytest.param("1", "spam", id="one"),
        pytest.param("0", "ham", id="zero"),
        pytest.param(1, "spam", id="int-one"),
        pytest.param(0, "ham", id="int-zero"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
        pytest.param("true", None, id="true-is-ambiguous"),
        pytest.param(True, None, id="bool-is-not-an-int-here"),
        pytest.param("2", None, id="two"),
        pytest.param("spammy", None, id="near-miss"),
    ],
)
def test_normalise_label(value: object, expected: str | None) -> None:
    assert normalise_label(value) == expected


def test_every_answer_is_a_known_label() -> None:
    assert {normalise_label(v) for v in ("spam", "ham", "1", "0")} == set(LABELS)
