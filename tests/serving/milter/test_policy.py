"""What the milter does with a verdict: mark always; quarantine or reject above cut-offs."""

from __future__ import annotations

import pytest

from spamsift.exceptions import ConfigError
from spamsift.models.spam_model import Verdict
from spamsift.serving.markup import Scan, scan_of
from spamsift.serving.milter.policy import Action, MilterOptions, decide

CUTOFF = 0.9


def _scan(verdict: str, logit: float) -> Scan:
    return scan_of(Verdict(verdict=verdict, score=0.5, logit=logit, clues=[], flags=[]),
                   CUTOFF, "v1")


@pytest.mark.parametrize(("verdict", "points", "reject", "quarantine", "action"), [
    pytest.param("spam", 12.0, None, None, Action.ACCEPT, id="marking-only-by-default"),
    pytest.param("spam", 12.0, 10.0, None, Action.REJECT, id="over-reject"),
    pytest.param("spam", 9.0, 10.0, None, Action.ACCEPT, id="under-reject"),
    pytest.param("spam", 10.0, 10.0, None, Action.REJECT, id="at-reject"),
    pytest.param("spam", 8.0, None, 6.0, Action.QUARANTINE, id="over-quarantine"),
    pytest.param("spam", 12.0, 10.0, 6.0, Action.REJECT, id="reject-wins"),
    pytest.param("spam", 8.0, 10.0, 6.0, Action.QUARANTINE, id="between"),
    pytest.param("unsure", 4.0, 5.0, 5.0, Action.ACCEPT, id="unsure-never"),
    pytest.param("ham", -3.0, 5.0, 5.0, Action.ACCEPT, id="ham-never"),
])
def test_decide(verdict: str, points: float, reject: float | None, quarantine: float | None,
                action: Action) -> None:
    import math
    logit = points - 5.0 + math.log(CUTOFF / (1 - CUTOFF))  # the score is 5 + (z - logit(c))
    scan = _scan(verdict, logit)
    assert scan.shown == pytest.approx(points if verdict == "spam" else min(points, 4.9))
    assert decide(scan, MilterOptions(reject_score=reject, quarantine_score=quarantine)) is action


@pytest.mark.parametrize("kw", [
    pytest.param({"reject_score": 4.9}, id="reject-below-cutoff"),
    pytest.param({"quarantine_score": -1.0}, id="quarantine-below-cutoff"),
    pytest.param({"reject_score": float("nan")}, id="nan"),
    pytest.param({"max_size": 0}, id="max-size"),
    pytest.param({"threads": 0}, id="threads"),
    pytest.param({"timeout": 0}, id="timeout"),
    pytest.param({"reject_message": "100% spam"}, id="percent-in-reply"),
    pytest.param({"reject_message": "two\nlines"}, id="newline-in-reply"),
])
def test_bad_options_are_refused_with_the_name(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=next(iter(kw))):
        MilterOptions(**kw)  # type: ignore[arg-type]
