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
    "fit-diagnosis",
    "learning-curve",
    "false-positives",
    "false-negatives",
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
    # Five plots, all embedded: the page is one file.
    assert page.count('src="data:image/png;base64,') == 5
    assert sorted(p.name for p in report.parent.iterdir()) == ["metrics.json", "report.html"]
    assert "slight overfit" in page


def test_hostile_mail_is_escaped(report):
    page = report.read_text(encoding="utf-8")
    parsed = _parse(page)
    assert "script" not in parsed.tags and parsed.tags.count("img") == 5
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
    report = _write(tmp_path, learning_curve=None, fit_diagnosis=None, errors=[], model_info={})
    page = report.read_text(encoding="utf-8")
    _parse(page)
    assert "No learning curve was given." in page
    assert "No fit diagnosis was given." in page
    assert page.count('src="data:image/png;base64,') == 4


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
        pytest.param({"learning_curve": {"train_sizes": [1]}}, "missing", id="bad-curve"),
        pytest.param({"cutoffs": {"spam": None}}, r"cutoffs\['spam'\]", id="bad-cutoff"),
        pytest.param({"scores": S[:-1]}, "one score per label", id="short-scores"),
    ],
)
def test_bad_arguments_name_the_culprit_and_write_nothing(tmp_path, overrides, match):
    with pytest.raises(InputError, match=match):
        _write(tmp_path, **overrides)
    assert not (tmp_path / "out" / "metrics.json").exists()
