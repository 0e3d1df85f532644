"""What a message's links give away, as ``url:`` evidence tokens.

Phishing links are dressed to pass a glance: a host in another script that looks
like a known one (``xn--pypal-4ve.com`` is "pаypal.com" with a Cyrillic а), an
anchor whose text shows one domain while it goes to another, a bare IP address or
a number standing for one, a shortener that hides the destination, a ``data:``
URI that is itself the page, credentials before the host
(``http://paypal.com@evil.example``). Each becomes a token a model can weigh and
a person can read among the clues:

``url:idn``, ``url:mixed_script``, ``url:confusable:LATIN``, ``url:ip_host``,
``url:ip_obfuscated``, ``url:shortener``, ``url:data_uri``, ``url:data_uri:TYPE``,
``url:javascript``, ``url:userinfo``, ``url:text_mismatch`` and
``url:text_shows:SITE``.

Tokens are made once per message, however many links carry the same trait.
"""

from __future__ import annotations

import ipaddress
import re

from spamsift.features.normalize import to_latin_lookalikes
from spamsift.features.scripts import script_counts
from spamsift.parse.html import site
from spamsift.parse.message import ParsedMessage
from spamsift.parse.urls import url_host

__all__ = ["link_tokens", "url_traits", "decode_host", "is_ip_host", "SHORTENERS"]

#: Public URL shorteners: a selection of those in rspamd's redirector map
#: (conf/maps.d/redirectors.inc, which also lists mail providers' click trackers,
#: left out here as they are what legitimate bulk mail uses).
SHORTENERS = frozenset({
    "adf.ly", "amzn.to", "bit.do", "bit.ly", "bitly.com", "cli.gs", "clck.ru", "cutt.ly",
    "cutt.us", "dlvr.it", "fb.me", "goo.gl", "is.gd", "j.mp", "lnkd.in", "ow.ly",
    "page.link", "qr.ee", "qr.net", "rb.gy", "shorturl.at", "shorturl.com", "surl.li",
    "t.co", "t.ly", "tiny.cc", "tiny.pl", "tinyurl.com", "tr.im", "u.to", "vk.cc", "wp.me",
})
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]{0,20}):", re.I)
_DATA_TYPE = re.compile(r"^\s*data:([a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,60})", re.I)
# A host that is one number, or dotted parts of which some are hex or octal: browsers
# read "http://3627734734/" and "http://0xd8.0x3a.0xd6.0xce/" as IPv4 addresses.
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]{1,8}|\d{1,10})(?:\.(?:0x[0-9a-f]{1,8}|\d{1,10})){0,3}$")
_AUTHORITY = re.compile(r"^[a-z][a-z0-9+.-]*://([^/?#]*)", re.I)
_MAX_LINKS = 100


def decode_host(host: str) -> str:
    """``host`` with its punycode labels (``xn--``) decoded; a bad label is kept as is.

    >>> decode_host("xn--pypal-4ve.com")
    'pаypal.com'
    """
    if "xn--" not in host:
        return host
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                pass
        labels.append(label)
    return ".".join(labels)


def url_traits(url: str) -> list[str]:
    """The ``url:`` tokens of one URL (without duplicates).

    >>> url_traits("http://xn--pypal-4ve.com/login")
    ['url:idn', 'url:mixed_script', 'url:confusable:paypal']
    >>> url_traits("http://3627734734/x")
    ['url:ip_host', 'url:ip_obfuscated']
    """
    out: list[str] = []
    scheme = _SCHEME.match(url)
    if scheme:
        name = scheme.group(1).lower()
        if name == "data":
            out.append("url:data_uri")
            m = _DATA_TYPE.match(url)
            out.append(f"url:data_uri:{m.group(1).lower() if m else 'none'}")
            return out
        if name == "javascript":
            return ["url:javascript"]
    auth = _AUTHORITY.match(url.strip())
    if auth and "@" in auth.group(1):
        out.append("url:userinfo")
    host = url_host(url)
    if not host:
        return out
    if host.startswith("[") or ":" in host or _is_ip(host):
        out.append("url:ip_host")
        return out
    if _NUMERIC_HOST.match(host):
        out.append("url:ip_host")
        out.append("url:ip_obfuscated")
        return out
    if host in SHORTENERS or site(host) in SHORTENERS:
        out.append("url:shortener")
    decoded = decode_host(host)
    if not decoded.isascii():
        out.append("url:idn")
        for label in decoded.split(".")[:-1]:  # the TLD is the registry's, not the sender's
            if label.isascii():
                continue
            if len(script_counts(label)) > 1:
                out.append("url:mixed_script")
            latin = to_latin_lookalikes(label)
            if latin is not None:
                out.append(f"url:confusable:{latin[:40]}")
    return list(dict.fromkeys(out))


def is_ip_host(host: str) -> bool:
    """Whether ``host`` is an IP address, in any form a browser reads as one.

    >>> is_ip_host("192.0.2.1"), is_ip_host("3221225985"), is_ip_host("a.example")
    (True, True, False)
    """
    return bool(host) and (host.startswith("[") or ":" in host or _is_ip(host)
                           or _NUMERIC_HOST.match(host) is not None)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def link_tokens(msg: ParsedMessage) -> list[str]:
    """Every ``url:`` token of the message's links, once each."""
    out: dict[str, None] = {}
    for url in msg.urls[:_MAX_LINKS]:
        for t in url_traits(url):
            out[t] = None
    if msg.html.mismatched_links:
        out["url:text_mismatch"] = None
        for shown, _ in msg.html.mismatched_hosts:
            out[f"url:text_shows:{site(shown)}"] = None
    return list(out)
