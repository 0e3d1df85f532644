"""A message's identity: its bytes less a leading mbox ``From `` line, and their digest.

The ``From `` separator says where a copy was kept (an mbox), not what the mail is:
the parser must not see it, and the same mail read from an mbox and from a Maildir
must be one message to the feedback store (:func:`message_digest` names stored
messages) and to training's duplicate check (it is the exact-duplicate key). One
function, so retraining on stored feedback finds the ids it was given.
"""

from __future__ import annotations

import hashlib

__all__ = ["strip_mbox_from", "message_digest"]


def strip_mbox_from(raw: bytes) -> bytes:
    """``raw`` without a leading mbox ``From `` separator line.

    The line ends at the first LF (a CRLF's CR goes with it); a message that is
    only a ``From `` line, with no line end, is all separator and nothing is left.
    ``>From `` (an mboxrd-quoted line) and a ``From:`` header are mail, kept.

    >>> strip_mbox_from(b"From a@b Mon Jan  1 00:00:00 2024\\r\\nSubject: x\\r\\n")
    b'Subject: x\\r\\n'
    >>> strip_mbox_from(b"From a@b"), strip_mbox_from(b"From: a@b\\n")
    (b'', b'From: a@b\\n')
    """
    if raw.startswith(b"From "):
        nl = raw.find(b"\n")
        return raw[nl + 1 :] if nl >= 0 else b""
    return raw


def message_digest(raw: bytes) -> str:
    """Hex SHA-256 of ``raw`` less its mbox ``From `` line: one message, one name.

    >>> message_digest(b"From a@b Mon Jan  1 00:00:00 2024\\nSubject: x\\n\\nhi") == (
    ...     message_digest(b"Subject: x\\n\\nhi"))
    True
    """
    return hashlib.sha256(strip_mbox_from(raw)).hexdigest()
