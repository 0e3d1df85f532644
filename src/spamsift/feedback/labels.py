"""The effective-label rule: what a message's feedback events say it is.

The rule, applied to one message's events that are not retracted, in the order
they were recorded:

1. **Voters.** An event's voter is its ``user`` (the person or mailbox the
   feedback belongs to); an event with no user is voted by the API key that
   sent it; one with neither by a single anonymous voter.
2. **Each voter's latest event counts.** A voter who says spam and later ham has
   corrected themself: their vote is ham. Their earlier event stays in the
   audit trail.
3. **Agreement gives the label; disagreement is a conflict.** If every voter's
   vote is the same, that is the effective label. If voters disagree, the
   message is in conflict: it has no effective label and is left out of
   training until someone retracts or changes a vote. A conflict is never
   settled by whoever spoke last.
4. **No votes, no label.**

Because the state is a function of the set of live events alone, retracting an
event gives exactly the state that recording it never would have (the "exact
unlearn"), and learning the same message again with the same label changes
nothing: it counts once. Such an event is recorded as a *duplicate*: the message
already had that effective label before it.

>>> resolve([("user:ann", "spam"), ("user:bob", "spam"), ("user:ann", "spam")])
LabelState(label='spam', conflict=False, votes={'user:bob': 'spam', 'user:ann': 'spam'})
>>> resolve([("user:ann", "spam"), ("user:bob", "ham")]).conflict
True
>>> resolve([("user:ann", "spam"), ("user:ann", "ham")]).label
'ham'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["LABELS", "LabelState", "resolve", "voter_of"]

LABELS = ("spam", "ham")


@dataclass(frozen=True)
class LabelState:
    """A message's effective label (None when unlabelled or in conflict) and its votes."""

    label: str | None
    conflict: bool
    votes: dict[str, str] = field(default_factory=dict)


def voter_of(user: str | None, key_id: str | None) -> str:
    """Who an event's vote belongs to: ``user:NAME``, else ``key:ID``, else ``anonymous``."""
    if user is not None:
        return f"user:{user}"
    if key_id is not None:
        return f"key:{key_id}"
    return "anonymous"


def resolve(events: Iterable[tuple[str, str]]) -> LabelState:
    """The state given by live ``(voter, label)`` events, oldest first."""
    votes: dict[str, str] = {}
    for voter, label in events:
        votes.pop(voter, None)  # re-insert, so votes list voters by their latest event
        votes[voter] = label
    distinct = set(votes.values())
    if len(distinct) > 1:
        return LabelState(None, True, votes)
    return LabelState(distinct.pop() if distinct else None, False, votes)
