"""Prior evidence (models.priors): published defaults for signals the training mail
lacks, added to the token's weight and fading as the site's own rows arrive."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import phishing
from spamsift.config import load_settings
from spamsift.features.hashing import token_columns
from spamsift.features.tokens import tokenize
from spamsift.mailauth import Authenticator
from spamsift.models import bundled_model_path, load_model
from spamsift.models import scorer as scorer_module
from spamsift.models.classifier import SpamClassifier
from spamsift.models.priors import FADE_ROWS, POINT_LOGIT, PRIORS, prior_weights
from spamsift.parse import parse_message
from spamsift.serving.service import resolve_model

SITE = "mx.site.example"


def _message(auth: str = "", html: str = "<p>Lunch on Friday?</p>") -> bytes:
    head = f"Authentication-Results: {SITE}; {auth}\n" if auth else ""
    return (f"{head}From: Kim <kim@paypal.com>\nTo: alex@site.example\nSubject: hello\n"
            f"Date: Mon, 4 Mar 2024 10:00:00 +0000\nMIME-Version: 1.0\n"
            f"Content-Type: text/html; charset=utf-8\n\n<html><body>{html}</body></html>\n"
            ).encode()


def _tokens(raw: bytes) -> set[str]:
    msg = Authenticator(trusted_ids=[SITE]).apply(parse_message(raw), raw)
    return set(tokenize(msg))


# Between them, these messages carry every signal the priors name.
_CARRIERS = [
    _message("spf=fail smtp.mailfrom=x.example; dkim=fail header.d=paypal.com; "
             "dmarc=fail (p=REJECT) header.from=paypal.com; arc=fail"),
    _message("dmarc=fail (p=QUARANTINE) header.from=paypal.com"),
    _message("dmarc=fail (p=NONE) header.from=paypal.com"),
    _message("spf=pass smtp.mailfrom=paypal.com; dkim=pass header.d=paypal.com; "
             "dmarc=pass (p=REJECT) header.from=paypal.com; arc=pass"),
    _message(html='<a href="http://192.0.2.7/x">x</a> <a href="http://paypal.com@evil.example/">y'
                  '</a> <a href="http://xn--pypal-4ve.com/">z</a> '
                  '<a href="https://evil.example/login">https://www.paypal.com/</a>'),
]


def test_every_prior_is_a_token_the_pipeline_makes() -> None:
    made = set().union(*(_tokens(raw) for raw in _CARRIERS))
    assert set(PRIORS) <= made, sorted(set(PRIORS) - made)


def test_failing_dmarc_names_the_policy_only_when_it_fails() -> None:
    assert "auth:dmarc_fail_policy=reject" in _tokens(_CARRIERS[0])
    passing = _tokens(_CARRIERS[3])
    assert "auth:dmarc_policy=reject" in passing
    assert not any(t.startswith("auth:dmarc_fail_policy") for t in passing)


def test_every_prior_is_sourced_and_within_the_published_range() -> None:
    for token, (points, source) in PRIORS.items():
        assert source.isupper() and -5 <= points <= 5, token


def _one_token_row(clf: SpamClassifier, token: str, n: int = 1) -> sp.csr_matrix:
    """``n`` rows holding only ``token`` (and an empty structure and reputation block)."""
    col = int(token_columns([token], clf.layout.n_tokens)[0])
    return sp.csr_matrix((np.ones(n), (np.arange(n), np.full(n, col))),
                         shape=(n, clf.layout.n_features))


def test_no_two_priors_share_a_column_at_the_default_width() -> None:
    cols, _ = prior_weights(SpamClassifier().layout.n_tokens)
    assert len(cols) == len(PRIORS)


@pytest.mark.parametrize("token", ["auth:dmarc_fail_policy=reject", "auth:arc=pass",
                                   "url:mixed_script"])
def test_a_model_without_rows_of_a_signal_weighs_it_by_its_prior(token: str) -> None:
    clf = SpamClassifier.empty()
    np.testing.assert_allclose(clf.decision_function(_one_token_row(clf, token)),
                               [PRIORS[token][0] * POINT_LOGIT])


def test_the_prior_fades_as_the_site_learns_the_signal() -> None:
    token = "auth:dmarc_fail_policy=reject"
    clf = SpamClassifier.empty()
    col = token_columns([token], clf.layout.n_tokens)

    def prior_part() -> float:
        return float(clf.token_weights(col)[0] - clf.coef_binary_[col][0])

    full = prior_part()
    assert full == pytest.approx(PRIORS[token][0] * POINT_LOGIT)
    # Half the rows the prior waits for, learned as ham (feedback on list mail, say).
    half = FADE_ROWS // 2
    clf.partial_fit(_one_token_row(clf, token, half), np.zeros(half, dtype=int))
    assert prior_part() == pytest.approx(full * (1 - half / FADE_ROWS))
    # Then all of them: the learned weight alone, and it says ham.
    clf.partial_fit(_one_token_row(clf, token, FADE_ROWS - half),
                    np.zeros(FADE_ROWS - half, dtype=int))
    assert prior_part() == 0.0
    clf.partial_fit(_one_token_row(clf, "lunch", 5), np.ones(5, dtype=int))  # a spam class
    assert clf.decision_function(_one_token_row(clf, token))[0] < 0
    # Unlearning the rows brings the prior back.
    clf.partial_fit(_one_token_row(clf, token, FADE_ROWS), np.zeros(FADE_ROWS, dtype=int),
                    sample_weight=-1.0)
    assert prior_part() == pytest.approx(full)


def test_a_model_without_naive_bayes_still_counts_the_rows(small_xy: tuple, small_layout: dict
                                                           ) -> None:
    X, y = small_xy
    clf = SpamClassifier(model="svm", **small_layout).fit(X, y)
    tokens = np.asarray((X[:, :clf.layout.n_tokens] > 0).sum(axis=0)).ravel()
    np.testing.assert_array_equal(clf.nb_count_.sum(axis=0)[:clf.layout.n_tokens], tokens)
    assert clf.nb_weight_ == 0.0 and not clf.coef_binary_.any()


def _score(model, raw: bytes, trusted: bool) -> float:
    auth = Authenticator(trusted_ids=[phishing.SITE_AUTHSERV] if trusted else [])
    msg = auth.apply(parse_message(raw), raw)
    return float(model.logits([msg])[0])


@pytest.fixture(scope="module")
def bundled():
    return load_model(bundled_model_path())


def test_forged_authentication_is_evidence_for_the_bundled_model(bundled) -> None:
    """A brand's failing DMARC, as the site's MTA recorded it, raises the score of mail
    the corpus taught nothing about; passing authentication lowers it."""
    by_kind = {}
    for s in phishing.samples():
        by_kind.setdefault(s.kind, s)
    forged, receipt = by_kind["forged-auth"].data, by_kind["brand-receipt"].data
    assert _score(bundled, forged, True) > _score(bundled, forged, False) + 1.0
    assert _score(bundled, receipt, True) < _score(bundled, receipt, False)
    clues = dict(bundled.classify([Authenticator(trusted_ids=[phishing.SITE_AUTHSERV]).apply(
        parse_message(forged), forged)], top=30)[0].clues)
    assert clues["auth:dmarc_fail_policy=reject"] > 0.5


def _zero_priors(n_tokens: int, counts: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """prior_weights with every weight 0: the scorer as it was before priors."""
    cols, w = prior_weights(n_tokens, counts)
    return cols, np.zeros_like(w)


@pytest.mark.parametrize("source", ["env", "override"])
def test_the_priors_setting_off_scores_as_without_priors(
        source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``SPAMSIFT_PRIORS=false``: a message with failing DMARC (and a trusted
    Authentication-Results) scores exactly as with no prior evidence at all; on (the
    default), as it always did."""
    raw = _message("dmarc=fail (p=REJECT) header.from=paypal.com")
    msg = Authenticator(trusted_ids=[SITE]).apply(parse_message(raw), raw)
    carried = set(tokenize(msg)) & set(PRIORS)
    assert "auth:dmarc_fail_policy=reject" in carried
    path = bundled_model_path()

    def logit(**settings: object) -> float:
        return float(resolve_model(path, load_settings(**settings)).logits([msg])[0])

    as_before = float(load_model(path).logits([msg])[0])
    on = logit()
    if source == "env":
        monkeypatch.setenv("SPAMSIFT_PRIORS", "false")
        off = logit()
    else:
        off = logit(priors=False)
    monkeypatch.setattr(scorer_module, "prior_weights", _zero_priors)
    without = float(load_model(path).logits([msg])[0])
    assert off == without
    assert on == as_before
    # The bundled model's corpus has no Authentication-Results: each prior in full.
    assert on - off == pytest.approx(sum(PRIORS[t][0] * POINT_LOGIT for t in carried))


def test_with_priors_off_the_clue_is_the_models_own_weight() -> None:
    raw = _message("dmarc=fail (p=REJECT) header.from=paypal.com")
    msg = Authenticator(trusted_ids=[SITE]).apply(parse_message(raw), raw)
    token = "auth:dmarc_fail_policy=reject"
    weights = {}
    for priors in (True, False):
        model = load_model(bundled_model_path(), priors=priors)
        weights[priors] = dict(model.classify([msg], top=100)[0].clues).get(token, 0.0)
    assert weights[True] - weights[False] == pytest.approx(PRIORS[token][0] * POINT_LOGIT)
