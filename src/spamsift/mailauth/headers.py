"""``Authentication-Results`` (RFC 8601): parsing, and which headers to believe.

Any sender can write an ``Authentication-Results`` header claiming ``dkim=pass``. A
receiving site's MTA writes its own under its *authserv-id* (usually its host name)
and should remove incoming ones that claim that id (RFC 8601 section 5). So only
headers whose authserv-id the site lists in ``SPAMSIFT_TRUSTED_AUTHSERV_IDS`` count;
every other one is ignored and counted (``auth:untrusted_ar``), as forging one is
itself a tell. Without trusted ids nothing from headers counts.

``ARC-Authentication-Results`` are not read here: RFC 8617 makes them an
intermediary's record, to be believed only through a validated ARC chain from a
sealer the receiver trusts (section 7.2), not by their authserv-id. They are not
counted as untrusted either: forwarders add them legitimately. What the chain says
is the ``arc`` result (verified, or from the site's own trusted header).

Where several trusted headers report a method, the topmost wins: the site's MTA adds
its header above whatever came with the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from spamsift.mailauth.results import (
    METHODS,
    TRUSTED_HEADER,
    AuthResults,
    MethodResult,
    normalise_result,
)

__all__ = ["AuthResultsHeader", "ResultInfo", "parse_authentication_results",
           "trusted_results", "combine"]

# Bounds on hostile headers: an MTA writes one result per method and signature.
_MAX_HEADER_CHARS = 16 * 1024
_MAX_RESULTS = 50
_MAX_HEADERS = 50
_METHOD = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9_-]*)\s*(?:/\s*\d+\s*)?=\s*([A-Za-z]+)(.*)", re.S)
_PROP = re.compile(r"([A-Za-z0-9_-]+)\s*\.\s*([A-Za-z0-9_.-]+)\s*=\s*"
                   r"(\"(?:[^\"\\]|\\.)*\"|[^\s\"]+)")
_REASON = re.compile(r"\breason\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^\s\"]+)", re.I)
_POLICY_COMMENT = re.compile(r"\bp\s*=\s*([A-Za-z]+)")
_POLICIES = frozenset({"none", "quarantine", "reject"})


@dataclass(frozen=True, slots=True)
class ResultInfo:
    """One ``method=result`` of a header, with its properties (``header.d`` -> value)."""

    method: str
    result: str
    props: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class AuthResultsHeader:
    authserv_id: str
    results: tuple[ResultInfo, ...]


def _split(value: str) -> tuple[list[str], list[str]]:
    """``value`` cut at each ``;`` outside quotes and comments: the pieces with their
    comments taken out, and each piece's comments joined."""
    pieces, comments = [""], [""]
    depth = 0
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
            if depth:
                comments[-1] += ch
            else:
                pieces[-1] += ch
            continue
        if ch == "\\" and (quoted or depth):
            escaped = True
            continue
        if depth:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    comments[-1] += " "
                    pieces[-1] += " "
                    continue
            comments[-1] += ch
            continue
        if quoted:
            pieces[-1] += ch
            if ch == '"':
                quoted = False
            continue
        if ch == "(":
            depth = 1
        elif ch == '"':
            quoted = True
            pieces[-1] += ch
        elif ch == ";":
            pieces.append("")
            comments.append("")
        else:
            pieces[-1] += ch
    return pieces, comments


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return re.sub(r"\\(.)", r"\1", v[1:-1])
    return v


def parse_authentication_results(value: str) -> AuthResultsHeader | None:
    """One header's value parsed; None when it has no authserv-id.

    Lenient where MTAs differ (comments anywhere, old result names, a version
    number), bounded in size, never raising.

    >>> h = parse_authentication_results(
    ...     "mx.example.org; spf=pass smtp.mailfrom=a.example; dkim=fail (bad) header.d=b.example")
    >>> h.authserv_id
    'mx.example.org'
    >>> [(r.method, r.result, r.props) for r in h.results]  # doctest: +NORMALIZE_WHITESPACE
    [('spf', 'pass', {'smtp.mailfrom': 'a.example'}),
     ('dkim', 'fail', {'header.d': 'b.example'})]
    """
    pieces, comments = _split(value[:_MAX_HEADER_CHARS].replace("\r", "").replace("\n", " "))
    head = pieces[0].split()
    if not head:
        return None
    serv = _unquote(head[0]).lower()
    results = []
    for piece, comment in zip(pieces[1:_MAX_RESULTS + 1], comments[1:], strict=False):
        m = _METHOD.match(piece)
        if m is None:
            continue  # "none" (no result), or something we do not read
        result = normalise_result(m.group(2))
        if result is None:
            continue
        rest = m.group(3)
        props = {f"{p.lower()}.{k.lower()}": _unquote(v) for p, k, v in _PROP.findall(rest)}
        reason = _REASON.search(rest)
        results.append(ResultInfo(m.group(1).lower(), result, props,
                                  _unquote(reason.group(1)) if reason else "", comment.strip()))
    return AuthResultsHeader(serv, tuple(results))


def _domain(value: str) -> str:
    """The domain of an address or domain property (``user@a.example`` -> ``a.example``)."""
    return value.rpartition("@")[2].strip().strip("<>.").lower()


def _identity(info: ResultInfo) -> str:
    p = info.props
    if info.method == "spf":
        return _domain(p.get("smtp.mailfrom") or p.get("smtp.helo", ""))
    if info.method == "dkim":
        return _domain(p.get("header.d") or p.get("header.i", ""))
    if info.method == "dmarc":
        return _domain(p.get("header.from", ""))
    return ""


def _dmarc_policy(info: ResultInfo) -> str:
    for key in ("policy.dmarc", "policy.published-domain-policy"):
        v = info.props.get(key, "").lower()
        if v in _POLICIES:
            return v
    m = _POLICY_COMMENT.search(info.comment)
    if m and m.group(1).lower() in _POLICIES:
        return m.group(1).lower()
    return ""


# Which result stands for a method with several (DKIM with several signatures):
# any pass, else the most telling failure first.
_RANK = {r: i for i, r in enumerate(("pass", "fail", "permerror", "temperror", "softfail",
                                     "policy", "neutral", "none"))}


def combine(results: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """The one (result, domain) that stands for several, or None for none."""
    best = None
    for r in results:
        if best is None or _RANK[r[0]] < _RANK[best[0]]:
            best = r
    return best


def trusted_results(headers: Iterable[tuple[str, str]], trusted_ids: Iterable[str]
                    ) -> AuthResults:
    """The results the site's own MTA recorded, from a message's header fields.

    Parameters
    ----------
    headers : iterable of (name, value)
        In message order, names lower-cased (:attr:`ParsedMessage.headers`).
    trusted_ids : iterable of str
        The authserv-ids the site's MTAs write (``SPAMSIFT_TRUSTED_AUTHSERV_IDS``).
    """
    trusted = {t.strip().lower() for t in trusted_ids if t.strip()}
    auth = AuthResults()
    seen = 0
    for name, value in headers:
        if name != "authentication-results":
            continue
        seen += 1
        if seen > _MAX_HEADERS:
            break
        parsed = parse_authentication_results(value)
        if parsed is None or parsed.authserv_id not in trusted:
            auth.untrusted_ar += 1
            continue
        for method in METHODS:
            if auth.get(method) is not None:
                continue  # a header above already said
            infos = [i for i in parsed.results if i.method == method]
            if not infos:
                continue
            if method == "dkim":
                auth.dkim_domains.extend((i.result, _identity(i)) for i in infos)
            best = combine((i.result, _identity(i)) for i in infos)
            assert best is not None
            policy = next((p for i in infos if (p := _dmarc_policy(i))), "") \
                if method == "dmarc" else ""
            setattr(auth, method, MethodResult(best[0], TRUSTED_HEADER, best[1], policy))
            if policy:
                auth.dmarc_policy = policy
    return auth
