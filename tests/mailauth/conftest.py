"""Fixtures of the mail-authentication tests: a loopback DNS server, DKIM keys, messages."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest

from mailauth.loopback_dns import LoopbackDns, SilentDns
from spamsift.mailauth import Resolver


@pytest.fixture
def dns() -> Iterator[LoopbackDns]:
    server = LoopbackDns()
    yield server
    server.close()


@pytest.fixture
def silent_dns() -> Iterator[SilentDns]:
    server = SilentDns()
    yield server
    server.close()


@pytest.fixture
def resolver(dns: LoopbackDns) -> Resolver:
    return Resolver([("127.0.0.1", dns.port)], timeout=2.0)


class Key:
    """An RSA key pair: the PKCS#1 PEM dkimpy signs with, the DKIM TXT record."""

    def __init__(self, bits: int = 2048) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        self.private_pem = key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.TraditionalOpenSSL,
                                             serialization.NoEncryption())
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


@pytest.fixture(scope="session")
def key() -> Key:
    return Key()


def make_message(from_addr: str = "alice@example.org", body: str = "Lunch on Friday?\n",
                 extra: str = "") -> bytes:
    return (f"From: Alice <{from_addr}>\nTo: bob@example.net\nSubject: lunch\n"
            f"Date: Mon, 02 Jun 2025 10:00:00 +0000\nMessage-ID: <m1@example.org>\n"
            f"{extra}\n{body}").encode()


Signer = Callable[..., bytes]


@pytest.fixture
def sign(key: Key, dns: LoopbackDns) -> Signer:
    """``sign(message, domain="example.org", selector="sel")``: the message with a DKIM
    signature by ``key``, whose record ``dns`` serves."""
    import dkim

    def signer(message: bytes, domain: str = "example.org", selector: str = "sel",
               serve: bool = True) -> bytes:
        if serve:
            dns.records[(f"{selector}._domainkey.{domain}", "TXT")] = [key.record]
        sig = dkim.sign(message, selector.encode(), domain.encode(), key.private_pem,
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        return bytes(sig) + message
    return signer
