"""SPF (RFC 7208) with pyspf, its lookups through our resolver.

Only a door that saw the SMTP session knows what SPF checks (the client's address,
its HELO name and the MAIL FROM address): the milter. pyspf does the evaluation
(mechanisms, macros, the ten-lookup and void-lookup limits); its DNS goes through
:class:`~spamsift.mailauth.resolver.Resolver`, so the site's resolvers, the cache
and the message's deadline apply.

pyspf looks DNS up through a module-level function, ``spf.DNSLookup``. It is
replaced, once, by one that asks the resolver the calling context set (a
``ContextVar``, so milter threads checking at once each use their own deadline) and
falls back to pyspf's own outside :func:`check_spf`.
"""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any

from spamsift.mailauth.resolver import DnsTempError, Resolver

__all__ = ["check_spf"]

_current: contextvars.ContextVar[tuple[Resolver, float | None] | None] = \
    contextvars.ContextVar("spamsift_spf_resolver", default=None)
_install_lock = threading.Lock()


def _lookup_through(spf: Any, original: Any) -> Any:
    def lookup(name: str, qtype: str, strict: Any = True, timeout: float = 20) -> list[Any]:
        ctx = _current.get()
        if ctx is None:
            return original(name, qtype, strict, timeout)  # type: ignore[no-any-return]
        resolver, deadline = ctx
        try:
            rdatas = resolver.query(name, qtype, deadline)
        except DnsTempError as exc:
            raise spf.TempError(f"DNS {exc}") from None
        out = []
        for r in rdatas:
            if qtype in ("A", "AAAA"):
                out.append(((name, qtype), r.address))
            elif qtype == "MX":
                out.append(((name, qtype), (r.preference, str(r.exchange))))
            elif qtype == "PTR":
                out.append(((name, qtype), r.target.to_text(True)))
            elif qtype in ("TXT", "SPF"):
                out.append(((name, qtype), r.strings))
        return out
    lookup.spamsift = True  # type: ignore[attr-defined]
    return lookup


def _spf() -> Any:
    import spf

    with _install_lock:
        if not getattr(spf.DNSLookup, "spamsift", False):
            spf.DNSLookup = _lookup_through(spf, spf.DNSLookup)
    return spf


def check_spf(client_ip: str, mail_from: str, helo: str, resolver: Resolver,
              deadline: float | None = None) -> tuple[str, str]:
    """(result, domain checked): the MAIL FROM domain, or the HELO name for a null
    sender (``<>``, bounces), as RFC 7208 section 2.4 says."""
    spf = _spf()
    mail_from = mail_from.strip().strip("<>")
    domain = (mail_from.rpartition("@")[2] if mail_from else helo).lower().rstrip(".")
    left = 20.0 if deadline is None else deadline - time.monotonic()
    if left <= 0:
        return "temperror", domain
    token = _current.set((resolver, deadline))
    try:
        q = spf.query(i=client_ip, s=mail_from, h=helo, querytime=left)
        result, _, _ = q.check()
    except Exception:  # pyspf on input it cannot read (a bad address, a bad HELO)
        result = "permerror"
    finally:
        _current.reset(token)
    result = {"tempfail": "temperror", "error": "temperror", "unknown": "permerror",
              "ambiguous": "permerror"}.get(result, result)
    return result, domain
