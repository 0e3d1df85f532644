"""What mail authentication costs per message, against a DNS server on loopback.

    python benchmarks/mailauth.py [--n 200] [--rounds 5]

Messages are written here (a few paragraphs, signed with a 2,048-bit RSA key;
half also sealed by an ARC intermediary with its own key), the keys and DMARC
records served by a dnslib server on 127.0.0.1. Per message, median over rounds of
the median per message: parsing alone; the trusted-header step (no DNS); full
verification (DKIM, ARC, DMARC) with a cold cache (every key and policy fetched) and
a warm one (the same senders again). Loopback answers in microseconds: a real
resolver adds its own round trip to each cold lookup, up to ``dns_timeout``.
Results go to benchmarks/results/mailauth.{json,md} and the README's block.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import RESULTS, replace_block  # noqa: E402

from mailauth.loopback_dns import LoopbackDns  # noqa: E402
from spamsift.mailauth import Authenticator, Resolver  # noqa: E402
from spamsift.parse import parse_message  # noqa: E402

BODY = ("Hello,\n\nthe minutes of Tuesday's meeting are below; the budget line for the\n"
        "next quarter is unchanged, and the review moves to the 14th.\n\n") * 8


def rsa_key() -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def messages(n: int, dns: LoopbackDns) -> list[bytes]:
    import dkim

    pem, record = rsa_key()
    arc_pem, arc_record = rsa_key()
    dns.records[("arc._domainkey.list.example", "TXT")] = [arc_record]
    out = []
    for i in range(n):
        domain = f"d{i}.example"  # a sender each: cold lookups per message
        dns.records[(f"sel._domainkey.{domain}", "TXT")] = [record]
        dns.records[(f"_dmarc.{domain}", "TXT")] = ["v=DMARC1; p=reject"]
        raw = (f"From: A <a@{domain}>\nTo: b@site.example\nSubject: minutes {i}\n"
               f"Date: Mon, 02 Jun 2025 10:00:00 +0000\nMessage-ID: <{i}@{domain}>\n\n"
               f"{BODY}").encode()
        raw = dkim.sign(raw, b"sel", domain.encode(), pem,
                        include_headers=[b"from", b"to", b"subject", b"date"]) + raw
        if i % 2:
            ar = b"Authentication-Results: mx.list.example; dkim=pass\n"
            raw = b"".join(dkim.arc_sign(ar + raw, b"arc", b"list.example", arc_pem,
                                         b"mx.list.example", linesep=b"\n")) + ar + raw
        out.append(raw)
    return out


def per_message_ms(fn, raws: list[bytes]) -> float:
    times = []
    for raw in raws:
        t0 = time.perf_counter()
        fn(raw)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    dns = LoopbackDns()
    try:
        raws = messages(args.n, dns)
        rows: dict[str, list[float]] = {"parse": [], "trusted headers only": [],
                                        "verify, cold cache": [], "verify, warm cache": []}
        for _ in range(args.rounds):
            auth = Authenticator(["mx.site.example"], verify=True,
                                 resolver=Resolver([("127.0.0.1", dns.port)]))
            headers_only = Authenticator(["mx.site.example"])
            rows["parse"].append(per_message_ms(parse_message, raws))
            rows["trusted headers only"].append(per_message_ms(
                lambda r, a=headers_only: a.apply(parse_message(r), r), raws))
            rows["verify, cold cache"].append(per_message_ms(
                lambda r, a=auth: a.apply(parse_message(r), r), raws))
            rows["verify, warm cache"].append(per_message_ms(
                lambda r, a=auth: a.apply(parse_message(r), r), raws))
        checked = Authenticator(verify=True, resolver=Resolver([("127.0.0.1", dns.port)]))
        results = [checked.apply(parse_message(r), r).auth for r in raws[:4]]
        assert all(a.dkim and a.dkim.result == "pass" for a in results), results
        assert results[1].arc and results[1].arc.result == "pass", results[1]
    finally:
        dns.close()
    med = {k: statistics.median(v) for k, v in rows.items()}
    base = med["parse"]
    md = ("| step (per message, parse included) | median ms | × parse |\n|---|---|---|\n"
          + "\n".join(f"| {k} | {v:.2f} | {v / base:.1f} |" for k, v in med.items()) + "\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mailauth.json").write_text(json.dumps(
        {"n": args.n, "rounds": args.rounds, "median_ms": med}, indent=2))
    (RESULTS / "mailauth.md").write_text(md)
    replace_block("mailauth", md)
    print(md)


if __name__ == "__main__":
    main()
