"""Models: the stacked spam classifier, the model that carries it, and its files.

:class:`SpamClassifier` (Naive Bayes, linear SVM, logistic regression, byte n-grams,
stacked and collapsed to linear weights; a loaded model's is a :class:`SpamScorer`,
which scores and learns feedback without scikit-learn), the clues behind a score
(:mod:`.explain`), :class:`SpamModel` (featurizer, classifier and cut-offs: verdicts
with clues), model files as versioned arrays, and registries of versions on disk or
in the database.
"""

from __future__ import annotations

from spamsift._lazy import lazy_names

# Each public name, and the module that holds it.
_WHERE = {
    "SpamClassifier": "classifier",
    "SpamScorer": "scorer",
    "SpamModel": "spam_model",
    "Verdict": "spam_model",
    "load_model": "persistence",
    "save_model": "persistence",
    "ModelRegistry": "registry",
    "DatabaseRegistry": "db_registry",
    "bundled_model_path": "bundled",
}

__all__ = list(_WHERE)

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
