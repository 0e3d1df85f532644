"""ARC (RFC 8617) chains verified with dkimpy, its key lookups through our resolver.

The result is the chain's validation status: ``pass`` (every ARC set validates and
the newest message signature does), ``fail`` (something does not, or an
intermediary recorded ``cv=fail``), ``none`` (no ARC headers), or ``temperror``
when it failed while a key lookup could not be answered.
"""

from __future__ import annotations

from spamsift.mailauth.dkim import MIN_KEY_BITS, dkimpy_logger, without_mbox_line
from spamsift.mailauth.resolver import DnsTempError, Resolver

__all__ = ["verify_arc"]

# ARC sets walked at most (RFC 8617 section 4.2.1 allows instances up to 50).
MAX_INSTANCES = 50


def verify_arc(raw: bytes, resolver: Resolver, deadline: float | None = None) -> str:
    """``pass``, ``fail``, ``none`` or ``temperror`` for the ARC chain of ``raw``."""
    import dkim

    temp: list[str] = []

    def dnsfunc(name: bytes, timeout: float = 0) -> bytes | None:
        try:
            keys = resolver.txt(name.decode("ascii", "replace"), deadline)
        except DnsTempError as exc:
            temp.append(str(exc))
            raise dkim.DnsTimeoutError(str(exc)) from None
        return keys[0] if keys else None

    try:
        a = dkim.ARC(without_mbox_line(raw), logger=dkimpy_logger(), minkey=MIN_KEY_BITS)
        max_instance, _ = a.sorted_arc_headers()
        if max_instance == 0:
            return "none"
        if max_instance > MAX_INSTANCES:
            return "fail"
        cv, _, _ = a.verify(dnsfunc=dnsfunc)
    except Exception:  # malformed ARC headers: the chain does not validate
        cv = dkim.CV_Fail
    if cv == dkim.CV_Pass:
        return "pass"
    if cv == dkim.CV_None:
        return "none"
    return "temperror" if temp else "fail"
