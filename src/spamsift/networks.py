"""Which clients a server trusts: loopback, and the networks its operator names.

Two doors ask: spamd, whose ``TELL`` is taken (with ``--allow-tell``) only from
loopback and ``--allowed-ips``, and the REST API, whose classify calls from loopback
and ``rate_limit_exempt_networks`` are not rate limited. Both name networks as
SpamAssassin's ``spamd --allowed-ips`` does: addresses or CIDR networks, comma
separated, IPv4 or IPv6.

Example
-------
>>> nets = parse_networks("10.0.0.0/8, 2001:db8::/32", name="allowed")
>>> is_trusted("10.1.2.3", nets), is_trusted("127.0.0.1"), is_trusted("192.0.2.1", nets)
(True, True, False)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TypeAlias

from spamsift.exceptions import ConfigError

__all__ = ["IPNetwork", "LOOPBACK", "parse_networks", "is_trusted"]

IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Always trusted: the machine itself.
LOOPBACK: tuple[IPNetwork, ...] = (ipaddress.ip_network("127.0.0.0/8"),
                                   ipaddress.ip_network("::1/128"))


def parse_networks(values: str | IPNetwork | Iterable[str | IPNetwork], *,
                   name: str) -> tuple[IPNetwork, ...]:
    """The networks in ``values``: strings of comma-separated addresses or networks.

    A plain address is a network of one. Networks already parsed pass through, so
    a value parsed once (and dumped to JSON and back) parses again to the same.

    Parameters
    ----------
    values : str, network, or an iterable of them
        ``"10.0.0.0/8,192.0.2.7"``, ``["10.0.0.0/8", "::1"]``, ...; empty items
        (a trailing comma) are skipped.
    name : str
        The option or setting being read, for the error message.

    Raises
    ------
    ConfigError
        Naming ``name`` and the value that is not an address or network, such as
        ``10.1.2.3/8`` (host bits set: a typo for ``10.0.0.0/8`` or for an
        address is not guessed at).
    """
    items = [values] if isinstance(values, str | IPNetwork) else values
    if not isinstance(items, Iterable):
        raise ConfigError(f"{name}: expected IP addresses or networks, got {values!r}")
    out: list[IPNetwork] = []
    for item in items:
        if not isinstance(item, str):
            if not isinstance(item, IPNetwork):
                raise ConfigError(f"{name}: expected IP addresses or networks, got "
                                  f"{item!r}")
            out.append(item)
            continue
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            try:
                out.append(ipaddress.ip_network(part))
            except ValueError as exc:
                raise ConfigError(f"{name}: expected an IP address or network such as "
                                  f"192.0.2.7 or 10.0.0.0/8, got {part!r} ({exc})") from None
    return tuple(out)


def is_trusted(address: str | None, networks: Iterable[IPNetwork] = ()) -> bool:
    """Whether ``address`` is loopback or inside one of ``networks``.

    Anything that is not an IP address (``None``, a test client's name) is not
    trusted. An IPv4 client of a dual-stack socket (``::ffff:10.1.2.3``) is judged
    by its IPv4 address.
    """
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in (*LOOPBACK, *networks))
