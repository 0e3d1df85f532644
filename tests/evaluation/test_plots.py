"""Each plot draws on a bare Figure, renders to PNG, and declines when undefined."""

from __future__ import annotations

import numpy as np
import pytest

from spamsift.evaluation import plots
from spamsift.exceptions import InputError

PNG = b"\x89PNG\r\n\x1a\n"
Y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
S = np.array([0.0, 1e-9, 0.3, 0.6, 0.4, 0.9, 1 - 1e-9, 1.0])
CUTOFFS = {"spam": float(np.nextafter(1.0, 2.0)), "unsure": 0.5}


@pytest.mark.parametrize(
    "draw",
    [plots.roc_figure, plots.pr_figure, plots.histogram_figure, plots.rates_figure],
    ids=lambda f: f.__name__,
)
def test_plots_render_to_png(draw):
    assert plots.figure_png(draw(Y, S, CUTOFFS)).startswith(PNG)


@pytest.mark.parametrize("draw", [plots.roc_figure, plots.pr_figure], ids=lambda f: f.__name__)
def test_curves_need_both_classes(draw):
    assert draw(np.zeros(3, int), np.array([0.1, 0.5, 0.9]), {}) is None


@pytest.mark.parametrize(
    "draw", [plots.histogram_figure, plots.rates_figure], ids=lambda f: f.__name__
)
def test_distributions_draw_one_class(draw):
    fig = draw(np.ones(3, int), np.array([0.1, 0.5, 0.9]), {"spam": 0.9})
    assert plots.figure_png(fig).startswith(PNG)


@pytest.mark.parametrize(
    "scores",
    [
        pytest.param([[0.9, 0.92], [0.95, 0.96]], id="fold-rows"),
        pytest.param([0.9, 0.95], id="one-per-size"),
    ],
)
def test_learning_curve_accepts_rows_or_values(scores):
    curve = {"train_sizes": [10, 20], "train_scores": scores, "valid_scores": scores}
    assert plots.figure_png(plots.learning_curve_figure(curve)).startswith(PNG)


def test_learning_curve_names_what_is_wrong():
    with pytest.raises(InputError, match="valid_scores"):
        plots.learning_curve_figure({"train_sizes": [1], "train_scores": [0.9]})
    with pytest.raises(InputError, match="per training size"):
        plots.learning_curve_figure(
            {"train_sizes": [1, 2], "train_scores": [0.9], "valid_scores": [0.8, 0.9]}
        )


def test_reliability_figure_on_synthetic_scores():
    rng = np.random.default_rng(0)
    s = rng.beta(0.3, 0.3, 500)  # crowded at 0 and 1, as a spam filter's scores are
    y = (rng.random(500) < s).astype(int)  # calibrated by construction
    fig = plots.reliability_figure(y, s)
    assert plots.figure_png(fig).startswith(PNG)
    ax = fig.axes[0]
    # The diagonal, then the line through the bins' points.
    diagonal, curve = ax.lines[0], ax.lines[1]
    assert diagonal.get_xydata().tolist() == [[0, 0], [1, 1]]
    assert len(curve.get_xdata()) == 10
    assert len(ax.texts) >= 2  # bin counts are written beside the points


def test_reliability_figure_needs_scores():
    assert plots.reliability_figure(np.zeros(0, int), np.zeros(0)) is None


def _over_time(fprs):
    rows = [{"label": f"2002-0{i + 1}", "n_ham": 40, "n_spam": 30, "fpr": f, "fnr": 0.1,
             "unsure_rate": 0.02} for i, f in enumerate(fprs)]
    return {"bucketing": "month", "buckets": rows}


def test_timeline_figure_draws_buckets():
    fig = plots.timeline_figure(_over_time([0.0, 0.025, None]))
    assert plots.figure_png(fig).startswith(PNG)
    rates, sizes = fig.axes
    assert [t.get_text() for t in sizes.get_xticklabels()] == ["2002-01", "2002-02", "2002-03"]
    assert len(rates.lines) == 3  # FPR, FNR, unsure


@pytest.mark.parametrize(
    "over_time",
    [
        pytest.param({"bucketing": None, "buckets": []}, id="no-dates"),
        pytest.param(_over_time([0.0]), id="one-bucket"),
    ],
)
def test_timeline_figure_declines_without_two_buckets(over_time):
    assert plots.timeline_figure(over_time) is None
