"""What the milter does with a scanned message: mark it, quarantine it or reject it.

Every message is marked (the ``X-Spam-*`` and ``X-Spamsift-*`` headers spamd's
``PROCESS`` adds). Two optional cut-offs on the SpamAssassin-style score
(:mod:`spamsift.serving.score`: 5.0 is exactly spamsift's spam verdict, one
point per unit of log-odds) go further:

- ``quarantine_score``: the MTA holds the message (Postfix's hold queue, Sendmail's
  quarantine) for an administrator to release or delete;
- ``reject_score``: the SMTP transaction is refused with a 5xx, so the sender's
  server, not the recipient, owns the failure and no backscatter is sent.

Rejecting is checked first; both are off unless set, as with SpamAssassin's milter,
because a rejected false positive is lost mail while a marked one is in the
recipient's Junk folder. A cut-off below 5.0 would act on mail the model does not
call spam and is refused.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from spamsift.config import MAX_MESSAGE_BYTES
from spamsift.exceptions import ConfigError
from spamsift.serving.markup import Scan
from spamsift.serving.score import THRESHOLD

__all__ = ["Action", "MilterOptions", "decide"]


class Action(enum.Enum):
    ACCEPT = "accept"          # marked and delivered
    QUARANTINE = "quarantine"  # marked and held by the MTA
    REJECT = "reject"          # refused in the SMTP dialogue


@dataclass(frozen=True)
class MilterOptions:
    """How the milter treats messages.

    Attributes
    ----------
    reject_score, quarantine_score : float or None
        Score at or above which a message is rejected / quarantined; None: never.
    reject_message : str
        The text of the 5xx reply (``550 5.7.1 <text>``).
    max_size : int
        Bytes of a message kept for scanning; the rest is dropped from the scan (not
        from the mail) and the verdict is flagged as truncated.
    timeout : float
        Seconds the MTA waits for an answer before it counts the milter as dead
        (its ``milter_*_timeout`` settings apply too).
    threads : int
        Batches of messages scored at once.
    max_batch : int
        Messages scored in one call, at most.
    """

    reject_score: float | None = None
    quarantine_score: float | None = None
    reject_message: str = "Message classified as spam"
    max_size: int = MAX_MESSAGE_BYTES
    timeout: float = 60.0
    threads: int = 2
    max_batch: int = 32

    def __post_init__(self) -> None:
        for name in ("reject_score", "quarantine_score"):
            v = getattr(self, name)
            if v is not None and not v >= THRESHOLD:
                raise ConfigError(f"{name}: expected a score of {THRESHOLD} (the spam "
                                  f"cut-off) or more, got {v}")
        for name in ("max_size", "threads", "max_batch"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected 1 or more, got {getattr(self, name)}")
        if not self.timeout > 0:
            raise ConfigError(f"timeout: expected seconds above 0, got {self.timeout}")
        if not self.reject_message.isprintable() or "%" in self.reject_message:
            raise ConfigError("reject_message: expected printable text without '%', got "
                              f"{self.reject_message!r}")


def decide(scan: Scan, options: MilterOptions) -> Action:
    """The action for ``scan``: reject, quarantine or accept (always marked).

    The score compared is the one the headers show, so an administrator reading
    ``X-Spam-Score`` sees why a message was held.
    """
    if not scan.is_spam:
        return Action.ACCEPT
    if options.reject_score is not None and scan.shown >= options.reject_score:
        return Action.REJECT
    if options.quarantine_score is not None and scan.shown >= options.quarantine_score:
        return Action.QUARANTINE
    return Action.ACCEPT
