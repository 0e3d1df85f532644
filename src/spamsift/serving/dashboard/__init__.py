"""The dashboard: a browser's view of the service, served at ``/`` by ``spamsift serve``.

Static files only, every one shipped in this package (``static/``): one HTML page, a
style sheet and a few JavaScript modules, no build step and nothing loaded from
elsewhere (the content security policy, :mod:`spamsift.serving.api.headers`, forbids
it). The page asks for an API key, keeps it in the tab's ``sessionStorage`` (gone when
the tab closes; never in a URL, a cookie or a log) and sends it as ``Authorization:
Bearer`` to the same API everyone uses: the history, conflicts and statistics need
``read``, the learn buttons ``feedback``, the models page ``admin``
(:mod:`spamsift.serving.api.history`, ``stats``, ``feedback``, ``models``). The page
itself needs no key: without one it shows the login form and nothing else.

Pages (the part of the URL after ``#``): ``#/history``, ``#/message/ID``,
``#/conflicts``, ``#/stats``, ``#/models``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

__all__ = ["STATIC", "install"]

STATIC = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    # Revalidated on every load, as the static files are.
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")


class _Revalidated(StaticFiles):
    """Static files the browser checks (by ETag) before each use: after an upgrade the
    page never runs yesterday's scripts against today's API."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: ``/``, ``/favicon.ico`` and ``/static/...``."""
    app.include_router(router)
    app.mount("/static", _Revalidated(directory=STATIC, follow_symlink=False), name="static")
