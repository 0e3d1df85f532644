"""SpamModel: score, verdict from the two cut-offs, readable clues, flags."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

from spamsift.models.spam_model import SpamModel, Verdict, verdict_for
from spamsift.parse import parse_message

SPAM = (b"From: Winner <promo7@win-big.info>\nTo: someone@example.org\n"
        b"Subject: FREE cruise - act now!!!\n\n"
        b"Dear friend,\n\nCONGRATULATIONS! You have been selected to receive a FREE cruise.\n"
        b"Click here http://win-big.info/claim?id=1 to claim your prize. Act now!\n")
HAM = (b"From: Carol <carol@example.org>\nTo: someone@example.org\n"
       b"Subject: Minutes of the kernel meeting\nDate: Mon, 4 Mar 2002 10:00:00 +0000\n\n"
       b"Hi Bob,\n\nThe kernel meeting moved to Friday afternoon. Please bring the quarterly\n"
       b"figures and the draft of the design document.\n\nThanks,\nCarol\n")


@pytest.mark.parametrize("score, verdict", [
    pytest.param(0.95, "spam", id="above-spam"),
    pytest.param(0.9, "spam", id="at-spam-cutoff"),
    pytest.param(0.8999, "unsure", id="just-below-spam"),
    pytest.param(0.5, "unsure", id="at-unsure-cutoff"),
    pytest.param(0.4999, "ham", id="just-below-unsure"),
    pytest.param(0.0, "ham", id="zero"),
    pytest.param(1.0, "spam", id="one"),
])
def test_verdict_for(score: float, verdict: str) -> None:
    assert verdict_for(score, spam_cutoff=0.9, unsure_cutoff=0.5) == verdict


@pytest.mark.parametrize("spam_cutoff, unsure_cutoff, verdict", [
    pytest.param(0.0, 0.0, "spam", id="everything-spam"),
    pytest.param(1.1, 0.0, "unsure", id="nothing-spam"),
    pytest.param(1.1, 1.1, "ham", id="everything-ham"),
])
def test_classify_verdict_follows_the_models_cutoffs(small_model: SpamModel, spam_cutoff: float,
                                                     unsure_cutoff: float, verdict: str) -> None:
    model = dataclasses.replace(small_model, spam_cutoff=spam_cutoff, unsure_cutoff=unsure_cutoff)
    (v,) = model.classify([HAM])
    assert v.verdict == verdict
    assert model.verdict(v.score) == verdict


def test_classify_ranks_spam_above_ham(small_model: SpamModel) -> None:
    spam, ham = small_model.classify([SPAM, HAM])
    # An 80-message model is sure of the spam; the unseen ham only has to rank well
    # below it and stay out of the spam verdict (it may land in unsure).
    assert spam.score > small_model.spam_cutoff
    assert ham.score < small_model.spam_cutoff and ham.score < spam.score / 10
    assert spam.verdict == "spam" and ham.verdict != "spam"


def test_score_logit_and_classify_agree(small_model: SpamModel) -> None:
    verdicts = small_model.classify([SPAM, HAM])
    scores = small_model.score([SPAM, HAM])
    np.testing.assert_allclose([v.score for v in verdicts], scores)
    for v in verdicts:
        assert 0.0 <= v.score <= 1.0
        assert v.score == pytest.approx(1 / (1 + math.exp(-v.logit)))


def test_parsed_messages_score_like_bytes(small_model: SpamModel) -> None:
    np.testing.assert_allclose(small_model.score([parse_message(SPAM)]),
                               small_model.score([SPAM]))


def test_clues_are_readable_names_not_column_numbers(small_model: SpamModel) -> None:
    (v,) = small_model.classify([SPAM], top=200)
    labels = [c for c, _ in v.clues]
    assert not [c for c in labels if re.fullmatch(r"#\d+", c)]
    # Token clues carry their namespace: subject words, hosts, plain body words.
    assert any(c.startswith("subj:") for c in labels)
    assert any(c.startswith("url_host:") or c.startswith("from_dom:") for c in labels)
    assert "cruise" in labels or any("cruise" in c for c in labels)
    weights = [abs(w) for _, w in v.clues]
    assert weights == sorted(weights, reverse=True)


def test_top_limits_the_clues(small_model: SpamModel) -> None:
    assert len(small_model.classify([SPAM], top=3)[0].clues) == 3
    assert small_model.classify([SPAM], top=0)[0].clues == []


@pytest.mark.parametrize("data, flag", [
    pytest.param(b"", "empty", id="empty"),
    pytest.param(b"   \n\n", "empty", id="blank"),
    pytest.param(b"From: a@example.com\n\nno subject here", "missing:subject", id="no-subject"),
    pytest.param(b"Subject: hi\n\nno sender", "missing:from", id="no-from"),
])
def test_parse_flags_reach_the_verdict(small_model: SpamModel, data: bytes, flag: str) -> None:
    (v,) = small_model.classify([data])
    assert flag in v.flags
    assert v.verdict in {"spam", "unsure", "ham"}
    assert v.flags == sorted(v.flags)


def test_classify_nothing(small_model: SpamModel) -> None:
    assert small_model.classify([]) == []
    assert small_model.score([]).shape == (0,)


def test_verdict_to_dict_is_json_ready() -> None:
    v = Verdict(0.75, "unsure", 1.0986, [("subj:free", 0.123456)], ["missing:date"])
    assert v.to_dict() == {"verdict": "unsure", "score": 0.75, "logit": 1.0986,
                           "clues": [{"clue": "subj:free", "weight": 0.1235}],
                           "flags": ["missing:date"]}
