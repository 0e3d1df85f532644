"""DMARC (RFC 7489): the From domain's policy, and whether SPF or DKIM align with it.

The policy is the TXT record at ``_dmarc.<From domain>``, else at ``_dmarc.<its
organisational domain>`` (where ``sp=`` applies). The organisational domain is the
registrable domain by the Public Suffix List that ``publicsuffixlist`` ships (read
from the package, never fetched at run time).

DMARC passes when a passing DKIM signature's d=, or SPF's passing domain, aligns with
the From domain: equal (``adkim=s`` / ``aspf=s``) or with the same organisational
domain (relaxed, the default). Otherwise it fails, with one caution where spamsift
did not see the SMTP session: if SPF was not checked but the MAIL FROM domain
(the ``Return-Path`` the delivering MTA wrote) would align, SPF might have passed, and
the result is left open (no ``dmarc`` result; the policy is still evidence).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from spamsift.mailauth.resolver import DnsTempError, Resolver

__all__ = ["DmarcPolicy", "org_domain", "aligned", "lookup_policy", "parse_record",
           "dmarc_result"]

_POLICIES = frozenset({"none", "quarantine", "reject"})


@functools.cache
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def org_domain(domain: str) -> str:
    """The organisational (registrable) domain: ``mail.example.co.uk`` -> ``example.co.uk``.

    A public suffix itself, or a name the list cannot place, stands for itself.
    """
    domain = domain.lower().rstrip(".")
    if not domain:
        return ""
    try:
        return _psl().privatesuffix(domain) or domain  # type: ignore[no-any-return]
    except Exception:  # labels the list's code cannot handle
        return domain


def aligned(domain: str, from_domain: str, strict: bool = False) -> bool:
    """Whether ``domain`` aligns with ``from_domain`` (exactly, or by organisational domain)."""
    a, b = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    if not a or not b:
        return False
    if a == b or strict:
        return a == b
    return org_domain(a) == org_domain(b)


@dataclass(frozen=True, slots=True)
class DmarcPolicy:
    """A published DMARC record, as it applies to one From domain."""

    policy: str          # p=, or sp= for a subdomain of the record's domain
    strict_dkim: bool = False
    strict_spf: bool = False


def parse_record(txt: bytes | str) -> dict[str, str] | None:
    """The tags of a DMARC record, or None if it is not one (no leading ``v=DMARC1``)."""
    text = txt.decode("utf-8", "replace") if isinstance(txt, bytes) else txt
    tags: dict[str, str] = {}
    for part in text.split(";")[:30]:
        k, eq, v = part.partition("=")
        if eq:
            tags.setdefault(k.strip().lower(), v.strip())
    if tags.get("v") != "DMARC1" or not text.lstrip().startswith("v"):
        return None
    return tags


def lookup_policy(from_domain: str, resolver: Resolver, deadline: float | None = None
                  ) -> DmarcPolicy | None:
    """The policy that applies to ``from_domain``, or None when none is published.

    Raises
    ------
    DnsTempError
        A lookup did not answer (the result is then ``temperror``).
    """
    from_domain = from_domain.lower().rstrip(".")
    org = org_domain(from_domain)
    for where, is_sub in ((from_domain, False), (org, True)):
        if is_sub and where == from_domain:
            break
        records = [t for r in resolver.txt(f"_dmarc.{where}", deadline)
                   if (t := parse_record(r)) is not None]
        if len(records) != 1:  # none, or several: RFC 7489 6.6.3 says no policy
            continue
        tags = records[0]
        p = tags.get("p", "").lower()
        if is_sub:
            p = tags.get("sp", p).lower()
        if p not in _POLICIES:
            p = "none"  # an unreadable p=: treated as monitoring only (6.6.3)
        return DmarcPolicy(p, tags.get("adkim", "r").lower() == "s",
                           tags.get("aspf", "r").lower() == "s")
    return None


def dmarc_result(policy: DmarcPolicy | None, from_domain: str,
                 dkim: list[tuple[str, str]], spf: tuple[str, str] | None,
                 mail_from_domain: str = "") -> str | None:
    """``pass``, ``fail``, ``none`` (no policy), or None when it cannot be told.

    Parameters
    ----------
    dkim : list of (result, signing domain)
    spf : (result, domain) or None
        None when SPF was not checked; ``mail_from_domain`` (from ``Return-Path``)
        then says whether it could have aligned.
    """
    if policy is None:
        return "none"
    if any(r == "pass" and aligned(d, from_domain, policy.strict_dkim) for r, d in dkim):
        return "pass"
    if spf is not None:
        if spf[0] == "pass" and aligned(spf[1], from_domain, policy.strict_spf):
            return "pass"
        return "fail"
    if mail_from_domain and aligned(mail_from_domain, from_domain, policy.strict_spf):
        return None  # SPF unchecked and it could have passed aligned
    return "fail"


def policy_or_temperror(from_domain: str, resolver: Resolver, deadline: float | None
                        ) -> tuple[DmarcPolicy | None, bool]:
    """:func:`lookup_policy`, and whether it failed for want of an answer."""
    try:
        return lookup_policy(from_domain, resolver, deadline), False
    except DnsTempError:
        return None, True
