"""The bundled model at a new site: no confident verdict on thin evidence, and a
sender it has never seen is no evidence either way (issue 9, items 3 and 4)."""

from __future__ import annotations

import pytest

from spamsift.models import bundled_model_path, load_model
from spamsift.models.explain import column_label, contributions
from spamsift.models.spam_model import SpamModel

THIN = {
    "empty": b"",
    "headers only": b"From: a@b.example\nTo: me@site.example\nSubject: \n\n",
    "one word": b"From: a@b.example\nTo: me@site.example\nSubject: hi\n\nok\n",
    "three words": b"From: x@y.example\nTo: me@site.example\nSubject: re\n\nsee you tomorrow\n",
    "a link": b"From: x@y.example\nTo: me@site.example\n\nhttp://example.com/a\n",
}


@pytest.fixture(scope="module")
def bundled() -> SpamModel:
    return load_model(bundled_model_path())


@pytest.mark.parametrize("name", list(THIN))
def test_thin_evidence_gets_no_confident_verdict(bundled: SpamModel, name: str) -> None:
    result = bundled.classify([THIN[name]])[0]
    assert 0.01 < result.score < 0.99
    assert result.verdict != "spam"


def test_a_sender_never_seen_is_no_evidence(bundled: SpamModel) -> None:
    """At a new site every sender is unseen: the reputation clues add nothing, and
    the same words from different unseen senders score alike."""
    body = (b"Subject: minutes of the board meeting\n\nThe minutes are attached; "
            b"comments by Friday please.\n")
    senders = [b"From: Ana Lima <ana@riverside-school.example>\n",
               b"From: Bo <b.okafor@mail.unseen-provider.example>\n",
               b"From: x93kq@zz-random-host.example\n"]
    raws = [s + body for s in senders]
    clf = bundled.classifier
    X = bundled.featurizer.transform(raws)
    for row in contributions(clf, X):
        identity = [v for c, v in row if column_label(clf, c)[0] == "reputation"]
        assert identity and all(v == 0 for v in identity)
    scores = [r.score for r in bundled.classify(raws)]
    assert max(scores) - min(scores) < 0.02
