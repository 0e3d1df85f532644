"""The public names of spamsift.feedback, pinned so that a change to them is deliberate."""

from __future__ import annotations

import doctest

import pytest

import spamsift.feedback
from spamsift.feedback import labels, messages


def test_public_names() -> None:
    assert sorted(spamsift.feedback.__all__) == sorted([
        "FeedbackStore", "KeyStore", "Database",
        "FeedbackResult", "RetractResult", "LabelledMessage", "FeedbackEvent", "Conflict",
        "Classification", "Counts", "PruneResult", "LabelChangeRecord", "NewClassification",
        "KeyInfo", "KeyRecord",
        "LabelState",
        "StoreError", "NotFoundError", "IdempotencyError",
        "SCOPES", "LABELS", "VERDICTS", "DB_FILENAME",
        "default_url", "resolve_url", "resolve", "voter_of", "message_id",
    ])


def test_every_public_name_exists() -> None:
    for name in spamsift.feedback.__all__:
        assert hasattr(spamsift.feedback, name), name


def test_errors_are_spamsift_errors() -> None:
    from spamsift.exceptions import SpamsiftError

    assert issubclass(spamsift.feedback.StoreError, SpamsiftError)
    assert issubclass(spamsift.feedback.NotFoundError, spamsift.feedback.StoreError)
    assert issubclass(spamsift.feedback.IdempotencyError, spamsift.feedback.StoreError)


@pytest.mark.parametrize("module", [labels, messages], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.failed == 0 and result.attempted > 0


def test_every_public_name_has_a_home() -> None:
    assert set(spamsift.feedback._WHERE) == set(spamsift.feedback.__all__)


def test_mounting_the_cli_group_loads_no_database_code() -> None:
    import subprocess
    import sys

    code = ("import sys; from spamsift.cli.keys import keys_app; "
            "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
