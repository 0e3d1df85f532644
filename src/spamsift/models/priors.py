"""Prior evidence: default weights for signals a site's training mail may not hold.

A model learns a token's weight from the training rows that carry it. Some signals
are absent from whole archives: the SpamAssassin corpus (2002-2003) has no
``Authentication-Results``, no DKIM and hardly a look-alike host, so a model trained
on it gives ``auth:dmarc_fail_policy=reject`` no weight at all (or, hashed into a
column another token uses, that token's). For such signals the scorer adds a
published default weight to the token's own, until the site's data speaks for
itself: in full while no training row or feedback carries the token, fading
linearly to nothing at :data:`FADE_ROWS` rows (read off the model's Naive Bayes
counts, which feedback moves too). A prior is then a clue like any other token,
shown under the token's name.

Where the weights come from: rspamd's stock scores (its ``conf/scores.d/``
``policies_group.conf``, ``phishing_group.conf`` and ``url_suspect_group.conf``),
the one peer that publishes weights for these checks (SpamAssassin 4's DMARC plugin
documents 0.001 placeholders; its rule updates carry the real scores, not its
source). A signal no peer weighs is left out, not guessed: a URL shortener (rspamd
gives none; SpamAssassin 0.01 only for chained ones) and an untrusted
``Authentication-Results`` (ordinary in forwarded and Microsoft-hosted mail).

From rspamd points to log-odds: rspamd marks spam at 6 points (``add_header`` in
``conf/actions.conf``). The models ``train`` builds on the corpus mark spam at a
logit of 3.2 (random split, cut-off 0.961), 1.1 (temporal split, 0.747) and 3.6 (the
bundled model, 0.973): at half a logit per point, 6 points is a logit of 3, among
them. Nothing here was fitted on an outcome: the hand-written phishing of
benchmarks/phishing_kinds.py showed which tokens the corpus lacks, not what weights
would catch it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from spamsift.features.hashing import token_columns

__all__ = ["PRIORS", "POINT_LOGIT", "FADE_ROWS", "prior_weights"]

#: Token -> (rspamd points, the rspamd symbol the points are from). On the corpus's
#: random training rows only the link signals occur: ``url:ip_host`` in 273 rows and
#: ``url:text_mismatch`` in 84 (65 of them ham: list mail whose link text names
#: another host), whose priors are gone there, ``url:userinfo`` in 30 (40 % of its
#: prior left).
PRIORS: dict[str, tuple[float, str]] = {
    "auth:dmarc_fail_policy=reject": (2.0, "DMARC_POLICY_REJECT"),
    "auth:dmarc_fail_policy=quarantine": (1.5, "DMARC_POLICY_QUARANTINE"),
    "auth:dmarc_fail_policy=none": (0.1, "DMARC_POLICY_SOFTFAIL"),
    "auth:dmarc=pass": (-0.5, "DMARC_POLICY_ALLOW"),
    "auth:dkim=fail": (1.0, "R_DKIM_REJECT"),
    "auth:dkim=pass": (-0.1, "R_DKIM_ALLOW"),
    "auth:dkim_domain_aligned": (-0.1, "R_DKIM_ALIGNED"),
    "auth:spf=fail": (1.0, "R_SPF_FAIL"),
    "auth:spf=pass": (-0.2, "R_SPF_ALLOW"),
    "auth:arc=fail": (1.0, "ARC_REJECT"),
    "auth:arc=pass": (-1.0, "ARC_ALLOW"),
    "url:ip_host": (1.5, "URL_NUMERIC_IP"),
    "url:userinfo": (2.0, "URL_USER_PASSWORD"),
    "url:mixed_script": (5.0, "URL_HOMOGRAPH_ATTACK"),
    "url:text_mismatch": (4.0, "PHISHING"),
}

#: Log-odds per rspamd point (module docstring).
POINT_LOGIT = 0.5

# How many rows of its own does a site need before its weight replaces the prior?
# A token's log-odds from its counts has a standard error of about 2 / sqrt(n) for n
# rows split evenly: 0.28 at 50 rows, under the smallest prior that moves a verdict
# (1 point, 0.5 logit). Not tuned.
FADE_ROWS = 50


@lru_cache(maxsize=8)
def _columns(n_tokens: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each prior's column and full weight, and the distinct columns with where each
    prior's lands among them (two tokens hashed into one column add up, as their own
    weights would)."""
    cols = token_columns(list(PRIORS), n_tokens).astype(np.int64)
    weight = np.array([points * POINT_LOGIT for points, _ in PRIORS.values()])
    uniq, inverse = np.unique(cols, return_inverse=True)
    for a in (cols, weight, uniq, inverse):
        a.flags.writeable = False
    return cols, weight, uniq, inverse


def prior_weights(n_tokens: int, counts: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The prior's token columns (sorted, each once) and the log-odds each adds.

    Parameters
    ----------
    n_tokens : int
        Width of the hashed token block.
    counts : array of shape (2, >= n_tokens), optional
        Rows per class and column that carry the token: the model's Naive Bayes
        counts (training rows and feedback). None: no rows yet, every prior in full.

    >>> cols, w = prior_weights(2**20)
    >>> float(w.max()), len(cols) == len(PRIORS)
    (2.5, True)
    """
    cols, weight, uniq, inverse = _columns(n_tokens)
    if counts is not None:
        rows = counts[0, cols] + counts[1, cols]
        weight = weight * np.clip(1.0 - rows / FADE_ROWS, 0.0, 1.0)
    return uniq, np.bincount(inverse, weights=weight, minlength=len(uniq))
