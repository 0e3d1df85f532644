"""What mail authentication concluded about a message, and the evidence it gives.

One result per method (SPF, DKIM, DMARC, ARC) in RFC 8601's vocabulary, each with
where it came from: a trusted ``Authentication-Results`` header written by the
site's own MTA (``trusted-header``) or spamsift's own check (``verified``). A method
nobody established has no result (``None``); :meth:`AuthResults.as_dict` shows it
as ``{"result": "none", "source": null}`` and it makes no token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["AuthResults", "MethodResult", "METHODS", "RESULTS", "TRUSTED_HEADER", "VERIFIED"]

METHODS = ("spf", "dkim", "dmarc", "arc")
#: RFC 8601's result values for these methods (``policy``: DKIM only, in practice).
RESULTS = frozenset({"pass", "fail", "softfail", "neutral", "none", "temperror",
                     "permerror", "policy"})
TRUSTED_HEADER = "trusted-header"
VERIFIED = "verified"
# Older names some MTAs still write (RFC 7001 and earlier drafts).
_ALIASES = {"hardfail": "fail", "tempfail": "temperror", "permfail": "permerror",
            "unknown": "permerror", "error": "temperror"}


def normalise_result(value: str) -> str | None:
    """``value`` as an RFC 8601 result (old aliases mapped), or None if it is none."""
    v = value.strip().lower()
    v = _ALIASES.get(v, v)
    return v if v in RESULTS else None


@dataclass(frozen=True, slots=True)
class MethodResult:
    """One method's result.

    Attributes
    ----------
    result : str
        One of :data:`RESULTS`.
    source : str
        ``trusted-header`` or ``verified``.
    domain : str
        The identity it is about, lower-cased: SPF's MAIL FROM (or HELO) domain, the
        d= of the DKIM signature that decided, DMARC's From domain; "" if unknown.
    policy : str
        DMARC only: the published policy (``none``, ``quarantine``, ``reject``).
    """

    result: str
    source: str
    domain: str = ""
    policy: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"result": self.result, "source": self.source}
        if self.domain:
            out["domain"] = self.domain
        if self.policy:
            out["policy"] = self.policy
        return out


@dataclass(slots=True)
class AuthResults:
    """The four methods' results, and what else authentication showed.

    ``untrusted_ar`` counts ``Authentication-Results`` headers that were ignored:
    written by someone other than the site's MTA (a sender can forge them), so only
    their presence is evidence. ``dkim_aligned`` / ``spf_aligned``: a passing DKIM
    signature's d= / SPF's domain shares the From domain's organisational domain
    (DMARC's relaxed alignment); None when unknown.
    """

    spf: MethodResult | None = None
    dkim: MethodResult | None = None
    dmarc: MethodResult | None = None
    arc: MethodResult | None = None
    untrusted_ar: int = 0
    # DMARC's published policy, also when the result itself was left open.
    dmarc_policy: str = ""
    dkim_aligned: bool | None = None
    spf_aligned: bool | None = None
    # DKIM results by signing domain, as verified or reported (for DMARC alignment).
    dkim_domains: list[tuple[str, str]] = field(default_factory=list)

    def get(self, method: str) -> MethodResult | None:
        return getattr(self, method)  # type: ignore[no-any-return]

    def missing(self) -> list[str]:
        """The methods without a result yet."""
        return [m for m in METHODS if self.get(m) is None]

    @property
    def empty(self) -> bool:
        return not self.untrusted_ar and all(self.get(m) is None for m in METHODS)

    def as_dict(self) -> dict[str, Any]:
        """``{"spf": {"result": "pass", "source": "trusted-header"}, "dkim": ..., ...}``
        (``inspect --json``'s ``auth``); a method without a result shows
        ``{"result": "none", "source": None}``."""
        out: dict[str, Any] = {}
        for m in METHODS:
            r = self.get(m)
            out[m] = r.as_dict() if r is not None else {"result": "none", "source": None}
        out["untrusted_authentication_results"] = self.untrusted_ar
        return out

    def tokens(self) -> list[str]:
        """The evidence for the model: ``auth:spf=fail``, ``auth:dmarc_policy=reject``,
        ``auth:dmarc_fail_policy=reject``, ``auth:dkim_domain_aligned``,
        ``auth:untrusted_ar`` ...; nothing when nothing was established (a message of
        an archive without trusted headers)."""
        out = [f"auth:{m}={r.result}" for m in METHODS if (r := self.get(m)) is not None]
        if self.dmarc_policy:
            out.append(f"auth:dmarc_policy={self.dmarc_policy}")
            # The policy a failing From domain asked for: what tells a forgery of a
            # domain that publishes p=reject from list mail of one with p=none
            # (rspamd's DMARC_POLICY_REJECT / _QUARANTINE / _SOFTFAIL; models.priors).
            if self.dmarc is not None and self.dmarc.result == "fail":
                out.append(f"auth:dmarc_fail_policy={self.dmarc_policy}")
        if self.dkim_aligned is not None:
            out.append("auth:dkim_domain_aligned" if self.dkim_aligned
                       else "auth:dkim_domain_unaligned")
        if self.spf_aligned is not None:
            out.append("auth:spf_domain_aligned" if self.spf_aligned
                       else "auth:spf_domain_unaligned")
        if self.untrusted_ar:
            out.append("auth:untrusted_ar")
        return out
