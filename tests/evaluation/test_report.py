"""write_report: parseable metrics.json, a well-formed page, hostile mail escaped."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from spamsift.evaluation import compute_metrics, write_report
from spamsift.exceptions import InputError

HOSTILE = "<script>alert(1)</script>"
Y = np.array([0] * 6 + [1] * 6)
S = np.array([0.01, 0.05, 0.2, 0.4, 0.7, 0.95, 0.3, 0.6, 0.8, 0.9, 0.97, 0.99])
CUTOFFS = {"spam": 0.9, "unsure": 0.5}
ERRORS = [
    {
        "source": "ham/0006.eml",
        "label": 0,
        "score": 0.95,
        "verdict": "spam",
        "subject": HOSTILE,
        "clues": [("subj:" + HOSTILE, 0.99), ('url_host:"><img src=x onerror=alert(1)>', 0.9)],
    },
    {
        "source": "spam/0001.eml",
        "label": "spam",
        "score": 0.3,
        "verdict": "ham",
        "subject": "bell\x07 and \udcff lone surrogate",
        "clues": [],
    },
]
# Every ham and spam with its clues, whatever the verdict; the report keeps the worst few.
CONFIDENT = [
    {"source": f"ham/{i:04d}.eml", "label": 0, "score": float(S[i]), "verdict": "ham",
     "subject": f"ham {i}", "clues": [(f"ham-clue-{i}", 0.5)]}
    for i in range(6)
] + [
    {"source": f"spam/{i:04d}.eml", "label": 1, "score": float(S[6 + i]), "verdict": "spam",
     "subject": f"spam {i}", "clues": [(f"spam-clue-{i}", 0.5)]}
    for i in range(6)
]
CURVE = {
    "train_sizes": [4, 8, 12],
    "train_scores": [[0.99, 0.98], [0.98, 0.97], [0.97, 0.97]],
    "valid_scores": [[0.80, 0.84], [0.88, 0.86], [0.90, 0.91]],
    "metric": "roc_auc",
}
DIAGNOSIS = {
    "verdict": "slight overfit",
    "train_score": np.float64(0.97),
    "valid_score": 0.905,
    "gap": 0.065,
    "explanation": "Training beats validation by 0.065 & the gap is shrinking.",
}

SECTIONS = [
    "headline",
    "cutoffs",
    "confusion",
    "roc",
    "pr",
    "histogram",
    "thresholds",
    "reliability",
    "calibration",
    "rates-over-time",
    "over-time",
    "fit-diagnosis",
    "learning-curve",
    "false-positives",
    "false-negatives",
    "confident-ham",
    "confident-spam",
    "model-info",
]


class _Structure(HTMLParser):
    """Records ids and tag nesting; fails on a close tag that does not match."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids += [v for k, v in attrs if k == "id"]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _write(tmp_path: Path, **overrides) -> Path:
    kwargs = dict(
        metrics=compute_metrics(Y, S, CUTOFFS["spam"], CUTOFFS["unsure"]),
        y_true=Y,
        scores=S,
        cutoffs=CUTOFFS,
        learning_curve=CURVE,
        fit_diagnosis=DIAGNOSIS,
        errors=ERRORS,
        model_info={"name": "test-model", "classes": np.array([0, 1]), "data": Path("a/b")},
        confident=CONFIDENT,
        max_confident=3,
    )
    kwargs.update(overrides)
    return write_report(tmp_path / "out", **kwargs)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """One full report shared by the tests that only read it: drawing takes a second."""
    return _write(tmp_path_factory.mktemp("report"))


def _parse(page: str) -> _Structure:
    parser = _Structure()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    return parser


def _section(page: str, sid: str) -> str:
    start = page.index(f'<section id="{sid}">')
    return page[start : page.index("</section>", start)]


def test_writes_parseable_metrics_json(report):
    data = json.loads((report.parent / "metrics.json").read_text(encoding="utf-8"))
    assert set(data) >= {"metrics", "cutoffs", "model_info", "fit_diagnosis"}
    assert data["metrics"]["tp"] == compute_metrics(Y, S, 0.9, 0.5)["tp"]
    assert data["cutoffs"] == CUTOFFS
    assert data["fit_diagnosis"]["train_score"] == 0.97
    assert data["model_info"] == {"name": "test-model", "classes": [0, 1], "data": "a/b"}


def test_html_is_well_formed_with_every_section(report):
    assert report.name == "report.html" and report.parent.name == "out"
    page = report.read_text(encoding="utf-8")
    parsed = _parse(page)
    assert set(SECTIONS) <= set(parsed.ids)
    # Six plots, all embedded: the page is one file.
    assert page.count('src="data:image/png;base64,') == 6
    assert sorted(p.name for p in report.parent.iterdir()) == ["metrics.json", "report.html"]
    assert "slight overfit" in page


def test_hostile_mail_is_escaped(report):
    page = report.read_text(encoding="utf-8")
    parsed = _parse(page)
    assert "script" not in parsed.tags and parsed.tags.count("img") == 6
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "url_host:&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\x07" not in page
    assert "default-src 'none'" in page  # the second line of defence


def test_errors_split_by_true_class(report):
    page = report.read_text(encoding="utf-8")
    fp = page[page.index('id="false-positives"') : page.index('id="false-negatives"')]
    fn = page[page.index('id="false-negatives"') : page.index('id="model-info"')]
    assert "ham/0006.eml" in fp and "spam/0001.eml" not in fp
    assert "spam/0001.eml" in fn and "ham/0006.eml" not in fn


def test_optional_parts_may_be_absent(tmp_path):
    report = _write(
        tmp_path,
        learning_curve=None,
        fit_diagnosis=None,
        errors=[],
        model_info={},
        confident=(),
    )
    page = report.read_text(encoding="utf-8")
    _parse(page)
    assert "No learning curve was given." in page
    assert "No fit diagnosis was given." in page
    assert "No rows were given." in _section(page, "confident-ham")
    assert "No message dates were given" in _section(page, "rates-over-time")
    assert page.count('src="data:image/png;base64,') == 5


def test_one_class_still_reports(tmp_path):
    y, s = np.zeros(4, int), np.array([0.1, 0.2, 0.6, 0.95])
    report = _write(
        tmp_path, metrics=compute_metrics(y, s, 0.9, 0.5), y_true=y, scores=s, errors=[]
    )
    page = report.read_text(encoding="utf-8")
    _parse(page)
    assert "only one class" in page
    data = json.loads((report.parent / "metrics.json").read_text(encoding="utf-8"))
    assert data["metrics"]["roc_auc"] is None


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        pytest.param({"model_info": {"x": object()}}, "model_info.x", id="unserialisable"),
        pytest.param({"errors": [{"label": "maybe"}]}, r"errors\[0\].label", id="bad-label"),
        pytest.param(
            {"confident": [{"label": 2}]}, r"confident\[0\].label", id="bad-confident-label"
        ),
        pytest.param({"timestamps": [1.0]}, "timestamps: expected one per score", id="few-dates"),
        pytest.param({"learning_curve": {"train_sizes": [1]}}, "missing", id="bad-curve"),
        pytest.param({"cutoffs": {"spam": None}}, r"cutoffs\['spam'\]", id="bad-cutoff"),
        pytest.param({"scores": S[:-1]}, "one score per label", id="short-scores"),
    ],
)
def test_bad_arguments_name_the_culprit_and_write_nothing(tmp_path, overrides, match):
    with pytest.raises(InputError, match=match):
        _write(tmp_path, **overrides)
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_headline_shows_brier_and_ece(report):
    headline = _section(report.read_text(encoding="utf-8"), "headline")
    m = compute_metrics(Y, S, 0.9, 0.5)
    assert f"<td>Brier score</td><td>{m['brier']:.4g}</td>" in headline
    assert f"<td>Calibration error (ECE)</td><td>{m['ece']:.4g}</td>" in headline
    data = json.loads((report.parent / "metrics.json").read_text(encoding="utf-8"))
    assert data["metrics"]["brier"] == pytest.approx(m["brier"])
    assert sum(data["reliability"]["count"]) == len(Y)


def test_calibration_table_lists_the_bins(report):
    calibration = _section(report.read_text(encoding="utf-8"), "calibration")
    # Twelve distinct scores in ten equal-count bins: two bins of two, eight of one.
    assert calibration.count("<tr><td>") == 10
    assert "<td>0.01 – 0.05</td>" in calibration
    assert "<td>0.99</td>" in calibration  # a bin of one score shows it once


def test_calibration_table_reads_scores_near_one(tmp_path):
    y, s = np.array([0, 1, 1]), np.array([1e-5, 0.99997, 1.0])
    report = _write(tmp_path, metrics=compute_metrics(y, s, 0.9, 0.5), y_true=y, scores=s,
                    errors=[], confident=[])
    calibration = _section(report.read_text(encoding="utf-8"), "calibration")
    assert "<td>1e-05</td>" in calibration and "<td>1 − 3e-05</td>" in calibration


def test_most_confident_lists_keep_the_worst_whatever_the_verdict(report):
    page = report.read_text(encoding="utf-8")
    ham, spam = _section(page, "confident-ham"), _section(page, "confident-spam")
    # Ham scored 0.95, 0.7, 0.4 are the three highest, in that order; 0.2 is left off.
    order = [ham.index(f"ham/{i:04d}.eml") for i in (5, 4, 3)]
    assert order == sorted(order)
    assert "ham/0002.eml" not in ham and "ham-clue-4" in ham
    assert "Showing the 3 worst of 6." in ham
    # Spam scored 0.3, 0.6, 0.8, lowest first, though called spam here.
    order = [spam.index(f"spam/{i:04d}.eml") for i in (0, 1, 2)]
    assert order == sorted(order)
    assert "spam/0003.eml" not in spam and "spam-clue-0" in spam


def _dated(months: int, per_month: int) -> tuple[np.ndarray, np.ndarray, list]:
    """Half ham, half spam each month from March 2002; spam scored lower as months pass."""
    y, s, t = [], [], []
    start = 1_014_940_800  # 2002-03-01 UTC
    for m in range(months):
        low = 0.7 - 0.2 * m  # spam spread evenly from here to 1
        for i in range(per_month):
            spam = i % 2
            y.append(spam)
            s.append(low + (1 - low) * (i + 0.5) / per_month if spam else 0.05)
            t.append(start + m * 31 * 86_400 + i * 3600)
    return np.array(y), np.array(s), t


def test_rates_over_time_drawn_from_dates(tmp_path):
    y, s, t = _dated(months=4, per_month=50)
    t[0] = None  # a message without a Date header
    report = _write(
        tmp_path, metrics=compute_metrics(y, s, 0.9, 0.5), y_true=y, scores=s, errors=[],
        confident=[], timestamps=t,
    )
    page = report.read_text(encoding="utf-8")
    _parse(page)
    section = _section(page, "rates-over-time")
    assert section.count('src="data:image/png;base64,') == 1
    assert "calendar months" in section and "199 messages are dated; 1 without" in section
    over = json.loads((report.parent / "metrics.json").read_text(encoding="utf-8"))["over_time"]
    assert [b["label"] for b in over["buckets"]] == ["2002-03", "2002-04", "2002-05", "2002-06"]
    fnr = [b["fnr"] for b in over["buckets"]]
    # Spam below the 0.9 cut-off: 2/3 of the first month, 8/9 of the last, give or take
    # the sampling of 25 spam a month.
    assert fnr == sorted(fnr) and fnr[0] < fnr[-1]
    assert fnr[0] == pytest.approx(2 / 3, abs=0.05) and fnr[-1] == pytest.approx(8 / 9, abs=0.05)
    assert all(b["fpr"] == 0 for b in over["buckets"])


def test_rates_over_time_without_usable_dates(tmp_path):
    report = _write(tmp_path, timestamps=[None] * len(Y))
    section = _section(report.read_text(encoding="utf-8"), "rates-over-time")
    assert "No test message has a usable Date header" in section
    assert "data:image/png" not in section


def test_rates_over_time_says_why_a_class_has_no_rate(tmp_path):
    # 60 messages an hour apart, a third spam: two buckets of 20 ham and 10 spam.
    y = np.array([1, 0, 0] * 20)
    s = np.where(y == 1, 0.95, 0.05)
    t = [1_014_940_800 + i * 3600 for i in range(60)]
    report = _write(
        tmp_path, metrics=compute_metrics(y, s, 0.9, 0.5), y_true=y, scores=s, errors=[],
        timestamps=t,
    )
    section = _section(report.read_text(encoding="utf-8"), "rates-over-time")
    assert "Buckets hold about equal numbers of messages" in section
    assert "2 of 2 buckets hold fewer than 20 spam: no false-negative rate is drawn" in section
    assert section.count('src="data:image/png;base64,') == 1  # the false-positive rate is
