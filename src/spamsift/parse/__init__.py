"""Parse: raw RFC 822 bytes to a :class:`ParsedMessage`.

MIME walk with transfer and charset decoding, HTML to visible text with its
signals kept, URLs and hosts, attachments, normalised headers; separate caps on
bytes, parts, depth, text and time so hostile mail is scored on what was read.
"""

from spamsift.parse.message import Attachment, HtmlSignals, ParsedMessage, ReceivedHop
from spamsift.parse.mime import parse_message

__all__ = ["parse_message", "ParsedMessage", "Attachment", "HtmlSignals", "ReceivedHop"]
