"""Mail authentication: SPF, DKIM, ARC, DMARC and ``Authentication-Results``.

What a message's authentication says becomes :attr:`ParsedMessage.auth`
(:class:`AuthResults`: one RFC 8601 result per method, each from a trusted header
or our own verification) and namespaced evidence for the model (``auth:dkim=pass``,
``auth:dmarc=fail``, ``auth:dmarc_policy=reject``, ``auth:untrusted_ar``).
:class:`Authenticator`, built once from the settings, fills it in after parsing.

Modules: ``results`` (the data), ``headers`` (RFC 8601 parsing and the trusted
authserv-id rule), ``resolver`` (DNS: dnspython, timeouts, cache), ``dkim``, ``arc``
(dkimpy), ``spf`` (pyspf), ``dmarc`` (policy and alignment), ``verify`` (which result
counts). dnspython, dkimpy and pyspf are imported only when a check runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spamsift._lazy import lazy_names

if TYPE_CHECKING:
    from spamsift.mailauth.headers import parse_authentication_results, trusted_results
    from spamsift.mailauth.resolver import DnsTempError, Resolver, parse_servers
    from spamsift.mailauth.results import (
        METHODS,
        RESULTS,
        TRUSTED_HEADER,
        VERIFIED,
        AuthResults,
        MethodResult,
    )
    from spamsift.mailauth.verify import Authenticator, Envelope

# Where each public name lives: imported on first use, so that the parser, which
# only needs AuthResults, does not pay for the rest when a command starts.
_HOME = {
    "parse_authentication_results": "headers", "trusted_results": "headers",
    "DnsTempError": "resolver", "Resolver": "resolver", "parse_servers": "resolver",
    "METHODS": "results", "RESULTS": "results", "TRUSTED_HEADER": "results",
    "VERIFIED": "results", "AuthResults": "results", "MethodResult": "results",
    "Authenticator": "verify", "Envelope": "verify",
}

__all__ = ["AuthResults", "MethodResult", "Authenticator", "Envelope", "Resolver",
           "DnsTempError", "parse_servers", "parse_authentication_results",
           "trusted_results", "METHODS", "RESULTS", "TRUSTED_HEADER", "VERIFIED"]


__getattr__, __dir__ = lazy_names(__name__, _HOME)
