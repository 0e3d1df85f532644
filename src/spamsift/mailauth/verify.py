"""Which authentication results a message gets, from headers and from our own checks.

:class:`Authenticator` is built once at the edge from the settings and passed down;
it is applied to a parsed message with its raw bytes (``apply``), after parsing and
before featurising, by the batch step (``train``, ``score``, ``evaluate``) and by
each door (``classify``, REST, spamd, milter). Parsing itself knows nothing of it,
so a parse made in a sandbox worker, or a model trained elsewhere, gets the site's
settings of the process that scores.

1. The site's trusted ``Authentication-Results`` headers
   (:func:`~spamsift.mailauth.headers.trusted_results`): where present, they win.
2. When verifying, our own checks fill in what they lack: DKIM and ARC from the
   raw bytes, SPF when the door knows the SMTP envelope (the milter), DMARC from the
   From domain's policy and the SPF and DKIM results, whatever their source.
   All lookups of one message share one deadline (``budget`` seconds).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from spamsift.mailauth.headers import combine, trusted_results
from spamsift.mailauth.results import VERIFIED, AuthResults, MethodResult

if TYPE_CHECKING:
    from spamsift.config import Settings
    from spamsift.mailauth.resolver import Resolver
    from spamsift.parse.message import ParsedMessage

__all__ = ["Authenticator", "Envelope", "VerifyWhere"]

log = logging.getLogger(__name__)

VerifyWhere = Literal["doors", "always", "never"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the SMTP session said: the client's address, HELO name and MAIL FROM
    (``""`` for the null sender of a bounce)."""

    client_ip: str
    helo: str = ""
    mail_from: str = ""


class Authenticator:
    """Fills :attr:`ParsedMessage.auth`.

    Parameters
    ----------
    trusted_ids : iterable of str
        authserv-ids of the site's MTAs, whose ``Authentication-Results`` count.
    verify : bool
        Whether to check DKIM, ARC, DMARC (and SPF with an envelope) ourselves.
    dns_servers : sequence of (host, port)
        The resolvers to ask; empty: the system's.
    dns_timeout : float
        Seconds one lookup may take.
    budget : float
        Seconds all lookups of one message may take together.
    resolver : Resolver, optional
        One to share (tests); else made on first use from the DNS parameters.
    """

    def __init__(self, trusted_ids: Any = (), verify: bool = False,
                 dns_servers: Any = (), dns_timeout: float = 2.0, budget: float = 5.0,
                 resolver: Resolver | None = None) -> None:
        self.trusted_ids = frozenset(t.strip().lower() for t in trusted_ids if t.strip())
        self.verify = verify
        self.dns_servers = tuple(dns_servers)
        self.dns_timeout = dns_timeout
        self.budget = budget
        self._resolver = resolver

    @classmethod
    def from_settings(cls, settings: Settings, door: bool) -> Authenticator:
        """The authenticator the settings describe, for a door (``door=True``: it
        verifies unless ``auth_verify`` is ``never``) or a batch job (only with
        ``always``)."""
        from spamsift.mailauth.resolver import parse_servers

        where = settings.auth_verify
        return cls(settings.trusted_authserv_ids,
                   verify=where == "always" or (door and where == "doors"),
                   dns_servers=parse_servers(settings.dns_servers),
                   dns_timeout=settings.dns_timeout, budget=settings.auth_time_budget)

    def __getstate__(self) -> dict[str, Any]:
        # Sent to worker processes without the resolver: its lock and cache stay here.
        state = dict(self.__dict__)
        state["_resolver"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            from spamsift.mailauth.resolver import Resolver

            self._resolver = Resolver(self.dns_servers, timeout=self.dns_timeout)
        return self._resolver

    def apply(self, msg: ParsedMessage, raw: bytes, envelope: Envelope | None = None
              ) -> ParsedMessage:
        """Set ``msg.auth`` from its headers and (when verifying) our checks; returns ``msg``."""
        msg.auth = self.results(msg, raw, envelope)
        return msg

    def results(self, msg: ParsedMessage, raw: bytes, envelope: Envelope | None = None
                ) -> AuthResults:
        auth = trusted_results(msg.headers, self.trusted_ids)
        if self.verify:
            try:
                self._verify(auth, msg, raw, envelope)
            except Exception:  # a library failing on hostile input: score without it
                log.warning("mail authentication failed on a message", exc_info=True)
        self._alignment(auth, msg.from_domain)
        return auth

    def _verify(self, auth: AuthResults, msg: ParsedMessage, raw: bytes,
                envelope: Envelope | None) -> None:
        from spamsift.mailauth.arc import verify_arc
        from spamsift.mailauth.dkim import verify_dkim
        from spamsift.mailauth.dmarc import dmarc_result, policy_or_temperror
        from spamsift.mailauth.spf import check_spf

        deadline = time.monotonic() + self.budget
        r = self.resolver
        # dkimpy reads the whole message (0.3-0.4 s at 10 MiB): not for unsigned mail.
        names = {name for name, _ in msg.headers}
        if auth.dkim is None:
            sigs = verify_dkim(raw, r, deadline) if "dkim-signature" in names else []
            auth.dkim_domains = sigs
            best = combine(sigs) or ("none", "")
            auth.dkim = MethodResult(best[0], VERIFIED, best[1])
        if auth.arc is None:
            sealed = "arc-seal" in names or "arc-message-signature" in names
            auth.arc = MethodResult(verify_arc(raw, r, deadline) if sealed else "none",
                                    VERIFIED)
        if auth.spf is None and envelope is not None and envelope.client_ip:
            result, domain = check_spf(envelope.client_ip, envelope.mail_from, envelope.helo,
                                       r, deadline)
            auth.spf = MethodResult(result, VERIFIED, domain)
        from_domain = msg.from_domain.lower()
        if auth.dmarc is None and from_domain:
            policy, temp = policy_or_temperror(from_domain, r, deadline)
            if temp:
                auth.dmarc = MethodResult("temperror", VERIFIED, from_domain)
                return
            spf = (auth.spf.result, auth.spf.domain) if auth.spf is not None else None
            rp = msg.header("return-path")
            mail_from = rp[0].strip().strip("<>").rpartition("@")[2] if rp else ""
            result = dmarc_result(policy, from_domain, auth.dkim_domains, spf, mail_from)
            p = policy.policy if policy is not None else ""
            auth.dmarc_policy = p
            if result is not None:
                auth.dmarc = MethodResult(result, VERIFIED, from_domain, p)

    @staticmethod
    def _alignment(auth: AuthResults, from_domain: str) -> None:
        if auth.dmarc is not None and auth.dmarc.policy and not auth.dmarc_policy:
            auth.dmarc_policy = auth.dmarc.policy
        if not from_domain:
            return
        from spamsift.mailauth.dmarc import aligned

        passing = [d for r, d in auth.dkim_domains if r == "pass" and d]
        if not passing and auth.dkim is not None and auth.dkim.result == "pass" \
                and auth.dkim.domain:
            passing = [auth.dkim.domain]
        if passing:
            auth.dkim_aligned = any(aligned(d, from_domain) for d in passing)
        if auth.spf is not None and auth.spf.result == "pass" and auth.spf.domain:
            auth.spf_aligned = aligned(auth.spf.domain, from_domain)
