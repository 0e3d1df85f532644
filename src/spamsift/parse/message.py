"""What parsing makes of a message: every field the features read, nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from spamsift.mailauth.results import AuthResults

__all__ = ["ParsedMessage", "Attachment", "ExtractedPart", "ReceivedHop", "HtmlSignals",
           "HEAD_BYTES"]

# Enough for the byte n-gram block's longest window (features/bytegrams.py).
HEAD_BYTES = 8192


@dataclass(slots=True)
class Attachment:
    """A non-text part: its declared name and type and its decoded size in bytes."""

    filename: str
    content_type: str
    size: int


@dataclass(slots=True)
class ExtractedPart:
    """Text extracted from an attachment (spamsift.parse.extract).

    ``source`` names the extractor (``pdf``, ``docx``, ``xlsx``, ``pptx``, ``odt``,
    ``rtf``, ``html-attachment``, ``zip`` for an archive's member names, ...);
    ``filename`` is the attachment's, ``archive.zip/member.pdf`` for a zip member.
    ``urls`` are the links found in it (its text, PDF link annotations, Office
    hyperlink targets); they are in :attr:`ParsedMessage.urls` too.
    """

    source: str
    content_type: str
    filename: str
    text: str
    urls: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReceivedHop:
    """One ``Received:`` header, newest first as they stand in the message."""

    from_host: str = ""
    from_ip: str = ""
    by_host: str = ""
    protocol: str = ""


@dataclass(slots=True)
class HtmlSignals:
    """What the HTML said beyond its visible text."""

    n_links: int = 0
    n_images: int = 0
    n_forms: int = 0
    n_scripts: int = 0
    n_comments: int = 0
    hidden_chars: int = 0
    # Anchors whose visible text names a host other than the one linked to, and the
    # first few of them as (host shown, host linked to).
    mismatched_links: int = 0
    mismatched_hosts: list[tuple[str, str]] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedMessage:
    """A decoded message.

    Text fields are already decoded to ``str`` but not normalised: features do that.
    ``flags`` names what went wrong or was cut on the way (``truncated:parts``,
    ``charset:unknown``, ``parser:fallback``, ``missing:subject`` ...), so a message
    is always scored, and the flags themselves are evidence.
    """

    size: int
    headers: list[tuple[str, str]]
    subject: str | None
    from_name: str
    from_addr: str
    reply_to_addr: str
    to_addrs: list[str]
    date: datetime | None
    date_raw: str
    message_id: str
    mailer: str
    received: list[ReceivedHop]
    text_plain: str
    text_html: str  # visible text of the HTML parts
    html: HtmlSignals
    urls: list[str]
    attachments: list[Attachment]
    content_types: list[str]  # every part's type, in walk order
    charsets: list[str]
    n_parts: int
    max_depth: int
    flags: set[str] = field(default_factory=set)
    # The raw message's first HEAD_BYTES bytes (mbox "From " line removed), headers
    # included: what the byte n-gram features read, kept here so a parse made
    # elsewhere (a sandbox worker) carries them.
    head: bytes = b""
    # What SPF, DKIM, DMARC and ARC concluded (spamsift.mailauth). Parsing leaves it
    # empty: the site's trusted headers and our own checks are applied after it, by
    # whoever parses with the site's settings (the batch step, each door).
    auth: AuthResults = field(default_factory=AuthResults)
    # Text and links extracted from attachments (PDF, Office, RTF, HTML, zip
    # members), in attachment order; the bodies stay in text_plain and text_html.
    parts: list[ExtractedPart] = field(default_factory=list)

    @property
    def body_text(self) -> str:
        """Plain text if there is any, else the HTML's visible text, else both joined."""
        if self.text_plain and self.text_html:
            return self.text_plain + "\n" + self.text_html
        return self.text_plain or self.text_html

    def header(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in message order."""
        lname = name.lower()
        return [v for k, v in self.headers if k == lname]

    @property
    def from_domain(self) -> str:
        return self.from_addr.rpartition("@")[2] if "@" in self.from_addr else ""

    @property
    def reply_to_domain(self) -> str:
        return self.reply_to_addr.rpartition("@")[2] if "@" in self.reply_to_addr else ""
