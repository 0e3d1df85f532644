"""SpamModel: featurizer + classifier + cut-offs, the unit that is saved and served."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from spamsift.features.featurizer import MessageFeaturizer
from spamsift.models.explain import contributions, name_clues
from spamsift.models.scorer import SpamScorer
from spamsift.parse import ParsedMessage

__all__ = ["SpamModel", "Verdict", "verdict_for"]


def verdict_for(score: float, spam_cutoff: float, unsure_cutoff: float) -> str:
    """``spam`` at or above the spam cut-off, ``unsure`` at or above the other, else ``ham``."""
    if score >= spam_cutoff:
        return "spam"
    if score >= unsure_cutoff:
        return "unsure"
    return "ham"


@dataclass(frozen=True)
class Verdict:
    """What a classification returns: the score, the verdict and the evidence."""

    score: float
    verdict: str
    logit: float
    clues: list[tuple[str, float]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "score": self.score, "logit": self.logit,
                "clues": [{"clue": c, "weight": round(w, 4)} for c, w in self.clues],
                "flags": self.flags}


@dataclass
class SpamModel:
    """A trained filter: how to read a message, how to weigh it, where to cut.

    Parameters
    ----------
    featurizer : MessageFeaturizer
    classifier : SpamScorer
        Fitted: a :class:`~spamsift.models.classifier.SpamClassifier` once trained, a
        ``SpamScorer`` once loaded from its file.
    spam_cutoff, unsure_cutoff : float
        Probability cut-offs, chosen on out-of-fold training scores.
    info : dict
        Manifest data: settings, training fingerprint, metrics, version.
    """

    featurizer: MessageFeaturizer
    classifier: SpamScorer
    spam_cutoff: float
    unsure_cutoff: float
    info: dict[str, Any] = field(default_factory=dict)

    def parse(self, items: Sequence[bytes | ParsedMessage]) -> list[ParsedMessage]:
        return [self.featurizer.parse(x) for x in items]

    def logits(self, msgs: Sequence[ParsedMessage]) -> np.ndarray:
        if not msgs:
            return np.zeros(0)
        return self.classifier.decision_function(self.featurizer.transform_parsed(msgs))

    def score(self, items: Sequence[bytes | ParsedMessage]) -> np.ndarray:
        """Spam probabilities of raw messages."""
        return expit(self.logits(self.parse(items)))

    def verdict(self, score: float) -> str:
        return verdict_for(score, self.spam_cutoff, self.unsure_cutoff)

    def classify(self, items: Sequence[bytes | ParsedMessage], top: int = 8) -> list[Verdict]:
        """Score, verdict and the ``top`` clues of each message (:mod:`.explain`)."""
        msgs = self.parse(items)
        if not msgs:
            return []
        tokens: list[list[str]] = []
        X = self.featurizer.transform_parsed(msgs, tokens if top else None)
        t = self.classifier.terms(X)  # read once, for the logit and for the clues
        z = self.classifier.decide(t)
        contribs = contributions(self.classifier, X, top, t) if top else [[] for _ in msgs]
        out = []
        for i, (m, zi, si, contrib) in enumerate(zip(msgs, z.tolist(), expit(z).tolist(),
                                                     contribs, strict=True)):
            clues = name_clues(self, m, contrib, tokens[i]) if top else []
            out.append(Verdict(si, self.verdict(si), zi, clues, sorted(m.flags)))
        return out
