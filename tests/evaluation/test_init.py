"""The public surface of spamsift.evaluation is exactly what __all__ says."""

from __future__ import annotations

import spamsift.evaluation as evaluation


def test_public_names_are_pinned():
    assert sorted(evaluation.__all__) == [
        "compute_metrics",
        "cutoff_for_fpr",
        "fnr_at_fpr",
        "rates_by_threshold",
        "write_report",
    ]
    assert all(callable(getattr(evaluation, name)) for name in evaluation.__all__)
