"""The dashboard's files as the server sends them: no key needed, nothing from elsewhere.

What the browser does with them is tests/serving/dashboard/test_browser.py's.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from spamsift.serving.api.headers import CSP
from spamsift.serving.dashboard import STATIC


class _Refs(HTMLParser):
    """What a page loads (src, href of stylesheets and icons) and any inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline_scripts = 0
        self.style_attrs = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "style" in a or any(k.startswith("on") for k in a):
            self.style_attrs += 1
        if tag == "style":
            self.style_attrs += 1
        if tag == "script":
            self._in_script = "src" not in a
            if a.get("src"):
                self.loads.append(a["src"] or "")
        if tag == "link" and a.get("href"):
            self.loads.append(a["href"] or "")
        if tag == "img" and a.get("src"):
            self.loads.append(a["src"] or "")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def test_the_page_loads_without_a_key_and_asks_for_one(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP
    assert 'id="login-form"' in r.text and 'type="password"' in r.text
    # The key field has no name: a form submitted without the script sends no key.
    key_field = re.search(r"<input[^>]*id=\"key\"[^>]*>", r.text, re.S)
    assert key_field and "name=" not in key_field.group(0)


def test_everything_the_page_loads_is_here(client: TestClient) -> None:
    refs = _Refs()
    refs.feed(client.get("/").text)
    assert refs.inline_scripts == 0 and refs.style_attrs == 0
    assert refs.loads and all(u.startswith("/") and not u.startswith("//") for u in refs.loads)
    for url in refs.loads:
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", sorted(p.name for p in STATIC.iterdir()))
def test_each_static_file_is_served_with_its_type(client: TestClient, name: str) -> None:
    r = client.get(f"/static/{name}")
    assert r.status_code == 200
    expected = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
                ".html": "text/html", ".ico": "image/"}[STATIC.joinpath(name).suffix]
    assert r.headers["content-type"].startswith(expected)
    assert r.headers["cache-control"] == "no-cache" and r.headers["etag"]
    again = client.get(f"/static/{name}", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_scripts_import_only_each_other_and_build_no_markup() -> None:
    for js in STATIC.glob("*.js"):
        text = js.read_text()
        for spec in re.findall(r"from\s+\"([^\"]+)\"", text):
            assert spec.startswith("./") and (STATIC / spec[2:]).is_file(), (js.name, spec)
        # Server strings (a spammer's subject) must never be parsed as HTML.
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(",
                             text), js.name
        assert "localStorage" not in text, js.name  # the key lives in sessionStorage only
        outside = text.replace('"http://www.w3.org/2000/svg"', "")  # a name, not a load
        assert "http://" not in outside and "https://" not in outside, js.name


def test_the_favicon_exists(client: TestClient) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.parametrize("path", ["/static/../__init__.py", "/static/%2e%2e/__init__.py",
                                  "/static/nope.js"])
def test_nothing_else_is_served_from_static(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_page_is_not_in_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/favicon.ico" not in paths
