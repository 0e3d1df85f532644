"""The REST API: FastAPI routers over one model holder, keys, and a feedback store.

One router module per resource (``classify``, ``feedback``, ``models``, ``health``,
``metrics``); ``schemas`` holds the bodies, ``errors`` the one mapping from exceptions
to HTTP status, ``auth`` the API keys and scopes, ``ratelimit`` the token buckets,
``body`` the request size cap. :func:`create_app` puts them together;
:func:`spamsift.serving.server.run` serves it.
"""

from spamsift.serving.api.app import create_app
from spamsift.serving.api.auth import InMemoryKeys, KeyInfo, KeyVerifier
from spamsift.serving.api.state import FeedbackStore

__all__ = ["create_app", "InMemoryKeys", "KeyInfo", "KeyVerifier", "FeedbackStore"]
