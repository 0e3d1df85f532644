"""A DNS server on loopback answering from a dict, for the mail-authentication tests.

``LoopbackDns({("sel._domainkey.example.org", "TXT"): [key_record]})`` serves those
records on 127.0.0.1 (a free UDP port); other names get NXDOMAIN. ``records`` can
be changed while it runs, and ``queries`` counts what it was asked.
"""

from __future__ import annotations

import socket
from typing import Any

from dnslib import AAAA, MX, QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

Records = dict[tuple[str, str], list[Any]]


def txt_rdata(value: str | bytes) -> TXT:
    data = value.encode() if isinstance(value, str) else value
    # One TXT string holds 255 bytes: a 2,048-bit DKIM key is split, as zones do.
    return TXT([data[i:i + 255] for i in range(0, len(data), 255)] or [b""])


_RDATA = {"TXT": txt_rdata, "A": A, "AAAA": AAAA, "MX": lambda v: MX(v[1], v[0])}


class _Zone(BaseResolver):  # type: ignore[misc]
    def __init__(self, server: LoopbackDns) -> None:
        self.server = server

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self.server.queries.append((name, qtype))
        hits = self.server.records.get((name, qtype))
        if hits:
            for v in hits:
                reply.add_answer(RR(request.q.qname, request.q.qtype,
                                    rdata=_RDATA[qtype](v), ttl=self.server.ttl))
        elif not any(n == name for n, _ in self.server.records):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


class LoopbackDns:
    def __init__(self, records: Records | None = None, ttl: int = 60) -> None:
        self.records: Records = dict(records or {})
        self.ttl = ttl
        self.queries: list[tuple[str, str]] = []
        self._server = DNSServer(_Zone(self), port=0, address="127.0.0.1",
                                 logger=DNSLogger("-recv,-send,-request,-reply,-truncated,"
                                                  "-error,-data", prefix=False))
        self.port = self._server.server.server_address[1]
        self._server.start_thread()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.stop()
        self._server.server.server_close()


class SilentDns:
    """A UDP port on loopback that takes queries and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.sock.close()
