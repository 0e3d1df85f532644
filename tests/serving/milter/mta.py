"""The MTA's side of the milter protocol, written out, to drive ``spamsift milter`` in tests.

A frame is a 4-byte big-endian length, a command byte and its data (Sendmail's
``libmilter/README`` and ``mfdef.h``). The client offers what Postfix 3.x offers
(protocol version 6, every action, every protocol step) and then honours what the
milter asked for: steps it turned off are not sent, steps it asked no reply to are
not waited on, exactly as Postfix does. Messages go as raw bytes, whatever their
charset.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

VERSION = 6
ALL_ACTIONS = 0x1FF
ALL_PROTOCOL = 0x1FFFFF
NO_MAIL, NO_BODY, NO_HDRS, NO_EOH = 0x04, 0x10, 0x20, 0x40
NR_HDR, NR_MAIL, NR_EOH, NR_BODY = 0x80, 0x4000, 0x40000, 0x80000
FINAL = {b"a", b"r", b"t", b"y", b"d"}  # accept, reject, tempfail, reply code, discard


def frame(cmd: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data) + 1) + cmd + data


def cstrings(*parts: bytes) -> bytes:
    return b"".join(p + b"\0" for p in parts)


@dataclass
class Outcome:
    """What the milter answered at end of message."""

    final: bytes  # the disposition's command byte
    reply: bytes = b""  # the text of a 'y' (SMTP reply code) answer
    added: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[int, str, str]] = field(default_factory=list)  # (index, name, value)
    quarantine: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {name: value for name, value in self.added}


class MTA:
    """One milter connection, as an MTA holds it."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        # Frames that get no reply go out at once, as an MTA flushes them.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.actions = self.protocol = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> MTA:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, cmd: bytes, data: bytes = b"") -> None:
        self.sock.sendall(frame(cmd, data))

    def recv(self) -> tuple[bytes, bytes]:
        """The next answer that is not a progress notice."""
        while True:
            while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack(">I", self.buf[:4])[0]:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("milter closed the connection")
                self.buf += chunk
            n = struct.unpack(">I", self.buf[:4])[0]
            packet, self.buf = self.buf[4 : 4 + n], self.buf[4 + n :]
            if packet[:1] != b"p":
                return packet[:1], packet[1:]

    def negotiate(self) -> tuple[int, int]:
        self.send(b"O", struct.pack(">III", VERSION, ALL_ACTIONS, ALL_PROTOCOL))
        cmd, data = self.recv()
        assert cmd == b"O", (cmd, data)
        _, self.actions, self.protocol = struct.unpack(">III", data[:12])
        return self.actions, self.protocol

    def _step(self, cmd: bytes, data: bytes, skip: int, no_reply: int) -> bytes | None:
        if self.protocol & skip:
            return None
        self.send(cmd, data)
        if self.protocol & no_reply:
            return None
        answer, _ = self.recv()
        return answer

    def message(self, raw: bytes, sender: bytes = b"<ann@example.org>",
                queue_id: bytes = b"4ABC123", chunk: int = 65535) -> Outcome:
        """Send one message (header fields split out as an MTA does) and read the answer."""
        self.send(b"D", b"M" + cstrings(b"i", queue_id))
        answer = self._step(b"M", cstrings(sender), NO_MAIL, NR_MAIL)
        assert answer in (None, b"c"), answer
        head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        for name, value in split_fields(head):
            answer = self._step(b"L", cstrings(name, value), NO_HDRS, NR_HDR)
            assert answer in (None, b"c"), answer
        self._step(b"N", b"", NO_EOH, NR_EOH)
        body = body.replace(b"\n", b"\r\n")
        for i in range(0, len(body), chunk):
            answer = self._step(b"B", body[i : i + chunk], NO_BODY, NR_BODY)
            assert answer in (None, b"c"), answer
        self.send(b"E")
        out = Outcome(final=b"")
        while True:
            cmd, data = self.recv()
            if cmd == b"h":
                name, value = data.split(b"\0")[:2]
                out.added.append((name.decode(), value.decode()))
            elif cmd == b"m":
                index = struct.unpack(">I", data[:4])[0]
                name, value = data[4:].split(b"\0")[:2]
                out.changed.append((index, name.decode(), value.decode()))
            elif cmd == b"q":
                out.quarantine = data.rstrip(b"\0").decode()
            elif cmd in FINAL or cmd == b"c":
                out.final = cmd
                out.reply = data.rstrip(b"\0")
                return out


def split_fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """Header fields as (name, value), folded lines kept with their LF, the
    space after the colon dropped (what Postfix sends without HDR_LEADSPC)."""
    fields: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + b"\n" + line)
        elif b":" in line:
            name, _, value = line.partition(b":")
            fields.append((name, value[1:] if value.startswith(b" ") else value))
    return fields
