"""DNS for mail authentication: dnspython behind timeouts, a deadline and a cache.

Every lookup DKIM, ARC, SPF and DMARC make goes through one :class:`Resolver` per
process, so the site's resolvers (``SPAMSIFT_DNS_SERVERS``, ``host:port,...``; the
system's by default) and bounds apply to all of them:

- each query waits at most ``timeout`` seconds, and never past the message's
  ``deadline`` (its time budget): what does not answer in time is a
  :class:`DnsTempError`, which the checks report as ``temperror``;
- answers are cached for their TTL, capped at ``max_ttl``; "no such record" is
  cached too (RFC 2308: the zone's SOA minimum, capped at ``negative_ttl``), so a
  burst of mail from one domain costs one lookup; the cache holds at most
  ``cache_size`` names, the least recently used going first;
- after ``_DOWN_AFTER`` timeouts in a row the servers are taken as down for
  ``_DOWN_SECONDS``: lookups then fail at once instead of each waiting out its
  timeout, so a mail host that lost its resolver still scores mail at full speed
  (with ``temperror`` results) and tries again shortly after.

dnspython is imported on the first lookup, not with this module.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from spamsift.exceptions import ConfigError

__all__ = ["Resolver", "DnsTempError", "parse_servers"]

# Not tuned: three timeouts in a row is no longer one slow zone, and half a minute
# bounds how long a recovered resolver goes unused.
_DOWN_AFTER = 3
_DOWN_SECONDS = 30.0
# Failures (SERVFAIL, timeouts) are remembered briefly, so one broken zone is not
# asked again for every message of a burst.
_FAIL_TTL = 30.0


class DnsTempError(Exception):
    """A lookup that did not answer in time or failed on the server's side."""


def parse_servers(values: str | Sequence[str], *, name: str = "dns_servers"
                  ) -> tuple[tuple[str, int], ...]:
    """``"127.0.0.1:5353,[::1]:53,192.0.2.1"`` -> ((host, port), ...); port 53 by default.

    >>> parse_servers("127.0.0.1:5353, [::1], 192.0.2.1")
    (('127.0.0.1', 5353), ('::1', 53), ('192.0.2.1', 53))
    """
    import ipaddress

    items = values.split(",") if isinstance(values, str) else list(values)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        host, port = item, "53"
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest:
                port = rest.removeprefix(":")
        elif item.count(":") == 1:
            host, port = item.split(":")
        try:
            ipaddress.ip_address(host)
            p = int(port)
            if not 0 < p < 65536:
                raise ValueError(port)
        except ValueError:
            raise ConfigError(f"{name}: expected IP[:PORT] items ([IPv6]:PORT), comma-"
                              f"separated, got {item!r}") from None
        out.append((host, p))
    return tuple(out)


class Resolver:
    """Thread-safe cached lookups; see the module docstring.

    Parameters
    ----------
    servers : sequence of (host, port)
        The resolvers to ask; empty: the system's (``/etc/resolv.conf``).
    timeout : float
        Seconds one lookup may take (all servers and retries together).
    cache_size : int
        Names (with their type) kept.
    max_ttl, negative_ttl : float
        Caps on how long an answer, and an answer that there is none, is kept.
    """

    def __init__(self, servers: Sequence[tuple[str, int]] = (), timeout: float = 2.0,
                 cache_size: int = 4096, max_ttl: float = 3600.0,
                 negative_ttl: float = 300.0) -> None:
        self.servers = tuple(servers)
        self.timeout = timeout
        self.cache_size = cache_size
        self.max_ttl = max_ttl
        self.negative_ttl = negative_ttl
        self._cache: OrderedDict[tuple[str, str], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._dns: Any = None
        self._timeouts = 0
        self._down_until = 0.0
        self.lookups = 0  # queries sent, for tests and benchmarks

    def _resolver(self) -> Any:
        if self._dns is None:
            import dns.nameserver
            import dns.resolver

            if self.servers:
                r = dns.resolver.Resolver(configure=False)
                r.nameservers = [dns.nameserver.Do53Nameserver(h, p) for h, p in self.servers]
            else:
                try:
                    r = dns.resolver.Resolver()
                except dns.resolver.NoResolverConfiguration:
                    r = dns.resolver.Resolver(configure=False)  # no servers: every lookup fails
            r.cache = None  # ours, with our caps
            self._dns = r
        return self._dns

    def txt(self, name: str, deadline: float | None = None) -> list[bytes]:
        """The TXT records at ``name``, each one's strings joined; [] if there are none."""
        return [b"".join(r.strings) for r in self.query(name, "TXT", deadline)]

    def query(self, name: str, rdtype: str, deadline: float | None = None) -> list[Any]:
        """dnspython rdata of type ``rdtype`` at ``name`` (CNAMEs followed); [] for no
        such name or record.

        Raises
        ------
        DnsTempError
            No answer within the timeout or the deadline, a server failure, or the
            servers taken as down.
        """
        key = (name.lower().rstrip("."), rdtype)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                if hit[0] > now:
                    self._cache.move_to_end(key)
                    if isinstance(hit[1], DnsTempError):
                        raise hit[1]
                    return list(hit[1])
                del self._cache[key]
            if self._down_until > now:
                raise DnsTempError(f"{name}: DNS servers not answering; retry after "
                                   f"{self._down_until - now:.0f} s")
        budget = self.timeout if deadline is None else min(self.timeout, deadline - now)
        if budget <= 0:
            raise DnsTempError(f"{name}: the message's time budget is spent")
        value, ttl = self._lookup(key[0], rdtype, budget)
        with self._lock:
            self._cache[key] = (time.monotonic() + ttl, value)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        if isinstance(value, DnsTempError):
            raise value
        return list(value)

    def _lookup(self, name: str, rdtype: str, budget: float) -> tuple[Any, float]:
        import dns.exception
        import dns.name
        import dns.resolver

        r = self._resolver()
        self.lookups += 1
        try:
            if not r.nameservers:
                raise dns.resolver.NoNameservers()
            answer = r.resolve(name, rdtype, lifetime=budget, raise_on_no_answer=False,
                               search=False)
        except dns.resolver.NXDOMAIN as exc:
            self._answered()
            return (), self._negative_ttl(exc.responses().values())
        except dns.exception.Timeout as exc:
            with self._lock:
                self._timeouts += 1
                if self._timeouts >= _DOWN_AFTER:
                    self._down_until = time.monotonic() + _DOWN_SECONDS
            return DnsTempError(f"{name} {rdtype}: no answer in {budget:.2g} s ({exc})"), \
                _FAIL_TTL
        except (dns.resolver.NoNameservers, dns.resolver.YXDOMAIN) as exc:
            self._answered()
            return DnsTempError(f"{name} {rdtype}: {exc}"), _FAIL_TTL
        except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel,
                dns.exception.SyntaxError, UnicodeError, ValueError):
            return (), self.negative_ttl  # not a name DNS can hold: there is no record
        self._answered()
        if answer.rrset is None:
            return (), self._negative_ttl([answer.response])
        return tuple(answer.rrset), min(float(answer.rrset.ttl), self.max_ttl)

    def _answered(self) -> None:
        with self._lock:
            self._timeouts = 0

    def _negative_ttl(self, responses: Any) -> float:
        for resp in responses:
            for rrset in getattr(resp, "authority", ()):
                if rrset.rdtype == 6:  # SOA: RFC 2308's negative TTL
                    return float(min(rrset.ttl, rrset[0].minimum, self.negative_ttl))
        return self.negative_ttl
