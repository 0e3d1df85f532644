"""The SPAMC/SPAMD protocol (1.0 to 1.5), without I/O: parse requests, build answers.

As SpamAssassin's spamd speaks it (its ``spamd/PROTOCOL`` and ``spamd`` itself)::

    CHECK SPAMC/1.5\\r\\n                    SPAMD/1.1 0 EX_OK\\r\\n
    Content-length: 1234\\r\\n        ->     Spam: True ; 9.8 / 5.0\\r\\n
    User: ann\\r\\n                          \\r\\n
    \\r\\n
    <the message>

Requests: ``CHECK``, ``SYMBOLS``, ``REPORT``, ``REPORT_IFSPAM``, ``PROCESS``,
``HEADERS``, ``PING``, ``SKIP`` and ``TELL``. Headers (from protocol 1.1 on; ``PING``
and ``SKIP`` only from 1.5): ``Content-length``, ``User``, ``Compress: zlib``, and for
``TELL`` ``Message-class: spam|ham``, ``Set: local[,remote]``, ``Remove:
local[,remote]``; others are ignored, as the protocol asks. Without
``Content-length`` the message runs to the end of the input.

A bad request raises :class:`SpamdError`, whose code is the sysexits value the
answer carries and spamc understands::

    EX_PROTOCOL    76  an unknown request, a malformed header, too many headers,
                       a Content-length the message does not match
    EX_DATAERR     65  a compressed message that does not inflate
    EX_TOOBIG      98  a message over the server's size limit
    EX_NOPERM      77  TELL from a client that may not (it is off by default)
    EX_UNAVAILABLE 69  TELL allowed, but nowhere to keep feedback
    EX_TIMEOUT     79  the client stopped sending
    EX_SOFTWARE    70  scoring failed

``SpamdError`` is an :class:`~spamsift.exceptions.InputError`, so it sits in
spamsift's one exception tree.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from spamsift.exceptions import InputError
from spamsift.serving.markup import Scan, report, symbol

__all__ = ["Ex", "SpamdError", "Request", "METHODS", "MAX_HEADERS", "parse_request_line",
           "parse_headers", "inflate", "error_response", "pong_response", "spam_header",
           "check_response", "process_response", "tell_response"]


class Ex(IntEnum):
    """The sysexits.h codes spamd answers with (and spamc exits with)."""

    EX_OK = 0
    EX_USAGE = 64
    EX_DATAERR = 65
    EX_NOINPUT = 66
    EX_NOUSER = 67
    EX_NOHOST = 68
    EX_UNAVAILABLE = 69
    EX_SOFTWARE = 70
    EX_OSERR = 71
    EX_OSFILE = 72
    EX_CANTCREAT = 73
    EX_IOERR = 74
    EX_TEMPFAIL = 75
    EX_PROTOCOL = 76
    EX_NOPERM = 77
    EX_CONFIG = 78
    EX_TIMEOUT = 79
    EX_TOOBIG = 98


class SpamdError(InputError):
    """A request spamd answers with an error line instead of a result."""

    def __init__(self, code: Ex, message: str) -> None:
        super().__init__(message)
        self.code = code


METHODS = ("CHECK", "SYMBOLS", "REPORT", "REPORT_IFSPAM", "PROCESS", "HEADERS",
           "PING", "SKIP", "TELL")
SCANS = ("CHECK", "SYMBOLS", "REPORT", "REPORT_IFSPAM", "PROCESS", "HEADERS")
MAX_HEADERS = 255  # spamd's guard against endless headers
_REQUEST = re.compile(rb"([A-Z_]+) SPAMC/(\d{1,3})\.(\d{1,3})")
_USER_MAX = 320  # the feedback store's limit on a user name


@dataclass(frozen=True)
class Request:
    """One parsed request (everything but the message)."""

    method: str
    version: tuple[int, int]
    content_length: int | None = None
    user: str | None = None
    compress: bool = False
    message_class: str | None = None
    set_local: bool = False
    set_remote: bool = False
    remove_local: bool = False
    remove_remote: bool = False

    @property
    def has_headers(self) -> bool:
        """Whether header lines and an empty line follow the request line."""
        if self.version <= (1, 0):
            return False
        return self.method not in ("PING", "SKIP") or self.version >= (1, 5)

    @property
    def has_body(self) -> bool:
        return self.method not in ("PING", "SKIP")


def _protocol(message: str) -> SpamdError:
    return SpamdError(Ex.EX_PROTOCOL, message)


def parse_request_line(line: bytes) -> Request:
    """The method and version of ``METHOD SPAMC/x.y`` (line ending optional).

    >>> req = parse_request_line(b"CHECK SPAMC/1.5\\r\\n")
    >>> req.method, req.version
    ('CHECK', (1, 5))
    """
    m = _REQUEST.fullmatch(line.rstrip(b"\r\n"))
    if m is None or m.group(1).decode() not in METHODS:
        shown = line.rstrip(b"\r\n")[:80].decode("ascii", "backslashreplace")
        raise _protocol(f"(expected 'METHOD SPAMC/x.y' with METHOD one of "
                        f"{', '.join(METHODS)}, got {shown!r})")
    version = (int(m.group(2)), int(m.group(3)))
    if not (1, 0) <= version < (2, 0):
        raise _protocol(f"(expected protocol SPAMC/1.x, got SPAMC/{version[0]}.{version[1]})")
    return Request(m.group(1).decode(), version)


def parse_headers(request: Request, lines: Iterable[bytes]) -> Request:
    """``request`` with the header ``lines`` (without the final empty line) applied."""
    fields: dict[str, object] = {}
    for n, raw in enumerate(lines):
        if n >= MAX_HEADERS:
            raise _protocol("(too many headers)")
        line = raw.rstrip(b"\r\n").decode("latin-1")
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise _protocol(f"(header not in 'Name: value' format: {line[:80]!r})")
        fields.update(_header(name.strip().lower(), value.strip()))
    req = Request(**{**request.__dict__, **fields})  # type: ignore[arg-type]
    if req.method == "TELL":
        _check_tell(req)
    return req


def _header(name: str, value: str) -> dict[str, object]:
    if name == "content-length":
        if not value.isdigit() or not value.isascii():
            raise _protocol(f"(Content-length: expected a number of bytes, got {value[:40]!r})")
        return {"content_length": int(value)}
    if name == "user":
        if not value or len(value) > _USER_MAX or not value.isprintable():
            raise _protocol(f"(User: expected 1 to {_USER_MAX} printable characters, "
                            f"got {value[:40]!r})")
        return {"user": value}
    if name == "compress":
        if value.lower() != "zlib":
            raise _protocol(f"(compression type not supported: expected zlib, got {value[:40]!r})")
        return {"compress": True}
    if name == "message-class":
        if value.lower() not in ("spam", "ham"):
            raise _protocol(f"(Message-class: expected spam or ham, got {value[:40]!r})")
        return {"message_class": value.lower()}
    if name in ("set", "remove"):
        where = {w.strip().lower() for w in value.split(",")}
        return {f"{name}_local": "local" in where, f"{name}_remote": "remote" in where}
    return {}  # headers not (yet) defined are ignored


def _check_tell(req: Request) -> None:
    if req.set_local and req.remove_local:
        raise _protocol("(unable to set local and remove local in the same operation)")
    if req.set_remote and req.remove_remote:
        raise _protocol("(unable to set remote and remove remote in the same operation)")
    if req.set_local and req.message_class is None:
        raise _protocol("(Set: local needs a Message-class: spam or ham)")


def inflate(data: bytes, limit: int) -> bytes:
    """A ``Compress: zlib`` body, inflated to at most ``limit`` bytes."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as exc:
        raise SpamdError(Ex.EX_DATAERR, f"(zlib: {exc})") from None
    if len(out) > limit:
        raise SpamdError(Ex.EX_TOOBIG, f"(message inflates to more than {limit} bytes)")
    if not d.eof:
        raise SpamdError(Ex.EX_DATAERR, "(zlib: the compressed message ends early)")
    return out


# -- answers -------------------------------------------------------------------

_ERROR_TEXT = {Ex.EX_PROTOCOL: "Bad header line", Ex.EX_UNAVAILABLE: "Service Unavailable",
               Ex.EX_NOPERM: "Permission denied", Ex.EX_TIMEOUT: "Timeout",
               Ex.EX_TOOBIG: "Message too big"}


def error_response(code: Ex, message: str) -> bytes:
    """spamd's one-line error answer, e.g. ``SPAMD/1.0 76 Bad header line: (...)``."""
    text = _ERROR_TEXT.get(code, code.name)
    message = " ".join(message.split())  # never a line break inside the line
    return f"SPAMD/1.0 {int(code)} {text}: {message}\r\n".encode("ascii", "backslashreplace")


def pong_response() -> bytes:
    return b"SPAMD/1.5 0 PONG\r\n"


def spam_header(scan: Scan) -> str:
    """``Spam: True ; 9.8 / 5.0``: the verdict, the score and the threshold."""
    return f"Spam: {'True' if scan.is_spam else 'False'} ; {scan.shown:.1f} / {scan.threshold:.1f}"


_OK = b"SPAMD/1.1 0 EX_OK\r\n"


def check_response(request: Request, scan: Scan) -> bytes:
    """The answer to ``CHECK``, ``SYMBOLS``, ``REPORT`` or ``REPORT_IFSPAM``."""
    spam = spam_header(scan).encode()
    if request.method == "CHECK":
        return _OK + spam + b"\r\n\r\n"
    if request.method == "SYMBOLS":
        body = ",".join(symbol(c) for c, _ in scan.verdict.clues).encode()
        if request.version < (1, 3):
            body += b"\r\n"
    elif request.method == "REPORT" or scan.is_spam:
        body = report(scan).encode("utf-8", "backslashreplace")
    else:  # REPORT_IFSPAM on a message that is not spam
        body = b""
    if request.version < (1, 3):
        return _OK + spam + b"\r\n\r\n" + body
    return _OK + b"Content-length: %d\r\n" % len(body) + spam + b"\r\n\r\n" + body


def process_response(request: Request, scan: Scan, message: bytes) -> bytes:
    """The answer to ``PROCESS`` or ``HEADERS``: ``message`` is what to send back."""
    if request.version < (1, 2):
        return b"SPAMD/1.0 0 EX_OK\r\n" + message
    head = _OK + b"Content-length: %d\r\n" % len(message)
    if request.version >= (1, 3):
        head += spam_header(scan).encode() + b"\r\n"
    return head + b"\r\n" + message


def tell_response(did_set: Iterable[str], did_remove: Iterable[str]) -> bytes:
    """The answer to ``TELL``: ``DidSet``/``DidRemove`` name what was done."""
    out = _OK
    if s := ",".join(did_set):
        out += f"DidSet: {s}\r\n".encode()
    if r := ",".join(did_remove):
        out += f"DidRemove: {r}\r\n".encode()
    return out + b"\r\n"
