"""Header values to structured fields: addresses, the Received chain, the Date.

Every value is cut to a bounded length before any parser sees it: Python's
header parsers go slow on some long address or encoded-word headers.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from spamsift.parse.message import ReceivedHop

__all__ = ["parse_address", "parse_addresses", "parse_received", "parse_date", "clean_value"]

_MAX_ADDR_HEADER = 2000
_WS = re.compile(r"\s+")
_RCV_FROM = re.compile(r"^\s*from\s+([^\s()]{1,255})(?:\s+\(([^)]{0,400})\))?", re.I)
_RCV_BY = re.compile(r"\bby\s+([^\s();]{1,255})", re.I)
_RCV_WITH = re.compile(r"\bwith\s+([A-Za-z0-9-]{1,40})", re.I)
_IP = re.compile(r"\[?((?:\d{1,3}\.){3}\d{1,3})\]?")
_ADDR_OK = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,255}$")


def clean_value(value: str, limit: int) -> str:
    """Fold whitespace and cut to ``limit`` characters."""
    return _WS.sub(" ", value[: limit * 2]).strip()[:limit]


def parse_address(value: str) -> tuple[str, str]:
    """(display name, lower-case address) of the first address in ``value``."""
    name, addr = parseaddr(value[:_MAX_ADDR_HEADER])
    addr = addr.strip().strip("<>").lower()
    if not _ADDR_OK.match(addr):
        addr = ""
    return name.strip()[:200], addr


def parse_addresses(values: list[str], limit: int = 100) -> list[str]:
    """Lower-case addresses of all ``values`` (To, Cc), at most ``limit``."""
    joined = [v[:_MAX_ADDR_HEADER] for v in values]
    out = []
    for _, addr in getaddresses(joined)[:limit]:
        addr = addr.strip().lower()
        if _ADDR_OK.match(addr):
            out.append(addr)
    return out


def parse_received(value: str) -> ReceivedHop:
    """The sending host, its IP, the receiving host and the protocol of one hop."""
    v = value[:1000]
    hop = ReceivedHop()
    m = _RCV_FROM.search(v)
    if m:
        hop.from_host = m.group(1).lower().strip("[]")
        detail = m.group(2) or ""
        ip = _IP.search(detail) or _IP.fullmatch(hop.from_host)
        if ip:
            hop.from_ip = ip.group(1)
    m = _RCV_BY.search(v)
    if m:
        hop.by_host = m.group(1).lower()
    m = _RCV_WITH.search(v)
    if m:
        hop.protocol = m.group(1).lower()
    return hop


def parse_date(value: str) -> datetime | None:
    """A timezone-aware datetime, or None when the header is not a date."""
    try:
        dt = parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt
