"""Security headers on every response, the dashboard's and the API's alike.

- ``Content-Security-Policy``: everything from this server only (``'self'``), no
  inline script or style, no plug-ins, no ``<base>``, forms post here, and no
  page may frame ours (``frame-ancestors 'none'``). The dashboard needs nothing
  more: its scripts and styles are files under ``/static``, its charts SVG built
  through the DOM. A page that loads nothing from elsewhere cannot tell anyone
  elsewhere who reads it.
- ``X-Frame-Options: DENY``: ``frame-ancestors`` for older browsers.
- ``X-Content-Type-Options: nosniff``: a response is what its type says.
- ``Referrer-Policy: no-referrer``: a link followed from the dashboard carries no
  address of it.
- ``Cache-Control: no-store`` on ``/v1/...``: the history and the key's answers are
  not kept in a browser's or a proxy's cache.

One exception: FastAPI's browsable OpenAPI pages (``/docs``, ``/redoc``) load
Swagger UI and ReDoc from their CDN with an inline script; they get a policy that
allows exactly that, and still no framing. The dashboard loads nothing from there.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeadersMiddleware", "CSP", "DOCS_CSP"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (f"default-src 'self'; script-src 'self' 'unsafe-inline' {_CDN}; "
            f"style-src 'self' 'unsafe-inline' {_CDN} https://fonts.googleapis.com; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
_DOCS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
_COMMON = (("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
           ("Referrer-Policy", "no-referrer"))


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP response (errors, 413s and 404s too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = DOCS_CSP if path in _DOCS else CSP
        no_store = path.startswith("/v1/")

        async def send_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = csp
                for name, value in _COMMON:
                    headers[name] = value
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_headers)
