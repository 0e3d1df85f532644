"""scikit-learn's estimator checks, run on SpamClassifier where they apply.

SpamClassifier is a binary classifier over one featurizer's column layout
(``MessageFeaturizer``: hashed tokens, structure, reputation), so the checks that fit
it on a few random columns or on three classes cannot apply; each is listed with why.
The rest (parameters, cloning, input validation, fitted-state checks) must pass.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from spamsift.models.classifier import SpamClassifier

_LAYOUT = "scores only rows of its featurizer's column layout, not a few random columns"
_BINARY = "a binary spam/ham classifier: labels are 0 and 1, both present"
EXPECTED_FAILURES = {
    **dict.fromkeys((
        "check_pipeline_consistency", "check_estimators_pickle", "check_classifiers_train",
        "check_decision_proba_consistency", "check_fit_idempotent",
        "check_fit_check_is_fitted", "check_n_features_in", "check_estimator_sparse_tag",
        "check_estimator_sparse_array", "check_estimator_sparse_matrix",
        "check_dtype_object", "check_positive_only_tag_during_fit", "check_estimators_nan_inf",
    ), _LAYOUT),
    **dict.fromkeys((
        "check_fit_score_takes_y", "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_n_features_in_after_fitting",
        "check_estimators_dtypes", "check_f_contiguous_array_estimator",
        "check_classifier_data_not_an_array", "check_classifiers_one_label",
        "check_classifiers_classes", "check_supervised_y_2d",
        "check_methods_sample_order_invariance", "check_methods_subset_invariance",
        "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
        "check_fit2d_predict1d",
    ), _BINARY),
    "check_estimators_partial_fit_n_features":
        "partial_fit learns feedback on a fitted model (fit, or SpamClassifier.empty)",
}


@parametrize_with_checks([SpamClassifier(model="nb+svm")],
                         expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_scikit_learn_estimator_checks(estimator: SpamClassifier, check: object) -> None:
    check(estimator)
