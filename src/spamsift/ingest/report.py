"""What a read did: how many messages came out, and which items were skipped and why."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from spamsift.ingest.message import RawMessage

__all__ = ["IngestReport", "Skipped"]

logger = logging.getLogger("spamsift.ingest")


@dataclass(frozen=True, slots=True)
class Skipped:
    """One item a reader passed over.

    Parameters
    ----------
    source : str
        The item, named as a yielded message would have been (``path``, ``PATH#N``...).
    reason : str
        A short fixed phrase to count by, such as ``"missing file"`` or ``"unknown label"``.
    detail : str
        The specifics: the bad value, the OS error.
    """

    source: str
    reason: str
    detail: str = ""


@dataclass(slots=True)
class IngestReport:
    """Counts of what was read, truncated, filtered out and skipped, shared by every reader.

    ``filtered`` counts rows left out on request (an index's ``only_split``); they are
    not skipped, since nothing was wrong with them.

    Counts are exact; only the first ``keep`` skipped items are held as examples,
    so a source with millions of bad rows still reads in constant memory.

    Parameters
    ----------
    keep : int
        How many :class:`Skipped` items to hold in ``skipped``.
    log : bool
        Also log each skip at WARNING on the ``spamsift.ingest`` logger. Readers turn this
        on for the report they make when the caller passed none, so no skip goes unseen.

    Examples
    --------
    >>> report = IngestReport()
    >>> report.skip("a/1", "missing file")
    >>> report.summary()
    'read 0 messages, skipped 1 (1 missing file)'
    """

    keep: int = 1000
    log: bool = False
    read: int = 0
    truncated: int = 0
    filtered: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_count(self) -> int:
        """How many items were skipped in all (``skipped`` may hold fewer)."""
        return sum(self.reasons.values())

    def record(self, message: RawMessage) -> RawMessage:
        """Count a message on its way out of a reader, and return it."""
        self.read += 1
        if message.meta.get("truncated") == "1":
            self.truncated += 1
        return message

    def skip(self, source: str, reason: str, detail: str = "") -> None:
        """Count an item that will not be yielded, with why."""
        self.reasons[reason] += 1
        if len(self.skipped) < self.keep:
            self.skipped.append(Skipped(source, reason, detail))
        if self.log:
            logger.warning("skipped %s: %s%s", source, reason, f" ({detail})" if detail else "")

    def summary(self) -> str:
        """One line for a person: read, truncated, filtered and skipped counts by reason."""
        parts = [f"read {self.read} message{'s' if self.read != 1 else ''}"]
        if self.truncated:
            parts.append(f"truncated {self.truncated} at the size cap")
        if self.filtered:
            parts.append(f"filtered out {self.filtered}")
        count = self.skipped_count
        parts.append(f"skipped {count}")
        if count:
            by_reason = ", ".join(f"{n} {reason}" for reason, n in self.reasons.most_common())
            parts[-1] += f" ({by_reason})"
        return ", ".join(parts)


def ensure_report(report: IngestReport | None) -> IngestReport:
    """The caller's report, or a fresh one that logs its skips so none pass unseen."""
    return report if report is not None else IngestReport(log=True)
