"""rates_over_time: months or equal-count buckets, small buckets and classes held back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spamsift.evaluation.timeline import rates_over_time
from spamsift.exceptions import InputError

MARCH_2002 = 1_014_940_800  # 2002-03-01 00:00 UTC
DAY = 86_400


def _month(m: int, n: int, spam_scores: list[float]) -> tuple[list, list, list]:
    """``n`` ham scored 0.05 and one spam per entry of ``spam_scores``, in month ``m``."""
    y = [0] * n + [1] * len(spam_scores)
    s = [0.05] * n + spam_scores
    t = [MARCH_2002 + (31 * m + 1) * DAY + i * 60 for i in range(len(y))]
    return y, s, t


def _concat(*parts):
    return tuple(sum((list(p[k]) for p in parts), []) for k in range(3))


def test_months_with_unsure_spam_counted_as_missed():
    # Each month: 20 ham, 20 spam; in month m, m spam are unsure and m more called ham.
    parts = [_month(m, 20, [0.6] * m + [0.1] * m + [0.99] * (20 - 2 * m)) for m in range(3)]
    y, s, t = _concat(*parts)
    r = rates_over_time(y, s, t, spam_cutoff=0.9, unsure_cutoff=0.5)
    assert r["bucketing"] == "month"
    assert (r["n_dated"], r["n_undated"], r["dropped"]) == (120, 0, 0)
    got = [(b["label"], b["fn"], b["unsure"], b["fnr"], b["fpr"]) for b in r["buckets"]]
    assert got == [
        ("2002-03", 0, 0, 0.0, 0.0),
        ("2002-04", 2, 1, 2 / 20, 0.0),
        ("2002-05", 4, 2, 4 / 20, 0.0),
    ]
    assert [b["unsure_rate"] for b in r["buckets"]] == [0.0, 1 / 40, 2 / 40]
    assert r["buckets"][1]["start"] == "2002-04-02"


def test_a_class_below_min_count_has_no_rate():
    parts = [_month(m, 25, [0.99] * 5) for m in range(3)]
    r = rates_over_time(*_concat(*parts), 0.9, 0.5)
    assert [b["fnr"] for b in r["buckets"]] == [None, None, None]
    assert [b["fpr"] for b in r["buckets"]] == [0.0, 0.0, 0.0]
    assert [b["fn"] for b in r["buckets"]] == [0, 0, 0]  # counts are kept


def test_small_months_are_dropped_and_counted():
    # Three full months and a spam with a forged date in 1999.
    y, s, t = _concat(*[_month(m, 20, [0.99] * 20) for m in range(3)])
    y, s, t = y + [1], s + [0.99], t + [MARCH_2002 - 900 * DAY]
    r = rates_over_time(y, s, t, 0.9, 0.5)
    assert r["bucketing"] == "month"
    assert [b["label"] for b in r["buckets"]] == ["2002-03", "2002-04", "2002-05"]
    assert (r["dropped"], r["dropped_messages"]) == (1, 1)


def test_short_span_gets_equal_count_buckets():
    # 160 messages an hour apart: one week. 80 spam -> 80 // 40 = 2 buckets of 80.
    y = [0, 1] * 80
    s = [0.05, 0.99] * 80
    t = [MARCH_2002 + i * 3600 for i in range(160)]
    r = rates_over_time(y, s, t, 0.9, 0.5)
    assert r["bucketing"] == "equal-count"
    assert [(b["n_ham"], b["n_spam"]) for b in r["buckets"]] == [(40, 40), (40, 40)]
    assert [b["label"] for b in r["buckets"]] == ["2002-03-01", "2002-03-04"]


def test_buckets_starting_the_same_day_are_labelled_by_the_minute():
    y, s = [0, 1] * 40, [0.05, 0.99] * 40
    t = [MARCH_2002 + i * 60 for i in range(80)]
    labels = [b["label"] for b in rates_over_time(y, s, t, 0.9, 0.5)["buckets"]]
    assert labels == ["2002-03-01 00:00", "2002-03-01 00:40"]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(None, id="none"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
        pytest.param(1e300, id="far-future"),
        pytest.param(-1e12, id="far-past"),
    ],
)
def test_missing_or_absurd_dates_count_as_undated(bad):
    y, s = [0, 1] * 40, [0.05, 0.99] * 40
    t = [MARCH_2002 + i * 3600 for i in range(80)]
    t[3] = bad
    r = rates_over_time(y, s, t, 0.9, 0.5)
    assert (r["n_dated"], r["n_undated"]) == (79, 1)
    assert sum(b["n_ham"] + b["n_spam"] for b in r["buckets"]) == 79


def test_no_dates_at_all():
    r = rates_over_time([0, 1], [0.1, 0.9], [None, None], 0.9, 0.5)
    assert r["bucketing"] is None and r["buckets"] == [] and r["n_undated"] == 2


@pytest.mark.parametrize(
    ("timestamps", "match"),
    [
        pytest.param([MARCH_2002], "one per score", id="short"),
        pytest.param(["yesterday", MARCH_2002], "Unix seconds", id="text"),
        pytest.param(MARCH_2002, "Unix seconds", id="not-a-sequence"),
    ],
)
def test_malformed_timestamps_raise(timestamps, match):
    with pytest.raises(InputError, match=match):
        rates_over_time([0, 1], [0.1, 0.9], timestamps, 0.9, 0.5)


def test_result_is_plain_json():
    y, s, t = _concat(*[_month(m, 20, [0.99] * 20) for m in range(3)])
    r = rates_over_time(np.array(y), np.array(s), t, 0.9, 0.5)
    assert json.loads(json.dumps(r, allow_nan=False)) == r
