"""The scikit-learn estimator contract, without importing scikit-learn.

Importing scikit-learn takes ~0.6 s (its utilities import all of ``scipy.stats``),
more than the rest of a one-message ``spamsift classify``. The classes a loaded model
is made of (the featurizer, byte n-grams, sender reputation, the fitted weights of
:class:`~spamsift.models.scorer.SpamScorer`) need none of it to score, so they derive
from :class:`Estimator` rather than ``sklearn.base.BaseEstimator``. It gives them what
scikit-learn's machinery reads: ``get_params`` and ``set_params`` (so ``clone`` and
Pipeline-like uses work), a repr and ``__sklearn_tags__``. scikit-learn is imported
only inside what fits, and by whoever asks for tags. The estimators that
``sklearn.utils.estimator_checks`` run on (:class:`~spamsift.models.classifier.SpamClassifier`,
:class:`~spamsift.features.binning.QuantileBinner`) are scikit-learn's own, used only
to fit.

>>> class Scaler(Estimator):
...     def __init__(self, factor: float = 1.0):
...         self.factor = factor
>>> Scaler(factor=2.0).set_params(factor=3.0)
Scaler(factor=3.0)
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["Estimator", "TransformerMixin", "check_fitted"]


class Estimator:
    """Parameters are the ``__init__`` keywords, stored under their own names."""

    #: ``"classifier"``, ``"transformer"`` or None, as scikit-learn's tags call them.
    _estimator_type: ClassVar[str | None] = None

    @classmethod
    def _get_param_names(cls) -> list[str]:
        params = inspect.signature(cls.__init__).parameters.values()
        return sorted(p.name for p in params
                      if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters, as ``__init__`` took them (``deep`` is scikit-learn's: this
        class nests no estimators)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> Self:
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}: "
                                 f"expected one of {valid}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        # Like scikit-learn's: only the parameters that differ from their defaults.
        defaults = inspect.signature(type(self).__init__).parameters
        changed = []
        for name, value in self.get_params().items():
            default = defaults[name].default
            if default is inspect.Parameter.empty or not _same(value, default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Tags:
        # Only scikit-learn's own machinery asks, which has imported it already.
        from sklearn.utils import ClassifierTags, Tags, TargetTags, TransformerTags

        kind = self._estimator_type
        return Tags(estimator_type=kind, target_tags=TargetTags(required=kind == "classifier"),
                    transformer_tags=TransformerTags() if kind == "transformer" else None,
                    classifier_tags=ClassifierTags() if kind == "classifier" else None,
                    regressor_tags=None)


class TransformerMixin:
    """``fit_transform`` as scikit-learn's ``TransformerMixin`` defines it."""

    _estimator_type: ClassVar[str | None] = "transformer"

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        return self.fit(X, y, **fit_params).transform(X)  # type: ignore[attr-defined]


def check_fitted(estimator: object, attribute: str) -> None:
    """Raise scikit-learn's ``NotFittedError`` (a ValueError and an AttributeError) when
    ``estimator`` lacks the fitted ``attribute``."""
    if not hasattr(estimator, attribute):
        # The error path only: callers and scikit-learn's checks catch its own class.
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet: "
                             "call 'fit' with appropriate arguments first")


def _same(a: object, b: object) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):  # arrays compare element-wise
        return False
