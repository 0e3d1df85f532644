"""The dashboard in a real browser: Debian's Chromium, headless, driven by Selenium.

A real ``spamsift serve`` on loopback with keys from ``spamsift keys create``, as a
person would set it up: log in, find a message just classified in the history, open
it, learn it as spam (a feedback event is written, and the API shows it), activate
another model version after the confirmation step; a read-only key sees no buttons
and no models; a wrong key is refused. The browser's console must stay free of errors
and warnings throughout (a missing favicon is one), and the key must appear in no URL
and no server log line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import pytest

from needs import CHROMEDRIVER, CHROMIUM
from spamsift.models.persistence import save_model
from spamsift.models.spam_model import SpamModel

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.needs("chromium")

CLI = [sys.executable, "-m", "spamsift.cli"]
SUBJECT = "Quarterly figures before the board meeting"
MESSAGE = (f"From: Dana Reyes <dana@example.org>\nTo: lee@example.net\nSubject: {SUBJECT}\n"
           "Date: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <q4@example.org>\n\n"
           "Lee, the quarterly figures are attached as promised; can we go through them on "
           "Thursday before the board meeting?\n").encode()
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--window-size=1280,800")


@dataclass
class Server:
    url: str
    data: Path
    log: Path
    env: dict[str, str]

    def key(self, *scopes: str) -> str:
        args = [a for s in scopes for a in ("--scope", s)]
        made = subprocess.run([*CLI, "keys", "create", *args, "--name", "-".join(scopes),
                               "--data-dir", str(self.data)], env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
        return made.stdout.strip().splitlines()[-1]

    def api(self, method: str, path: str, key: str, **kwargs: Any) -> Any:
        r = httpx.request(method, f"{self.url}{path}", timeout=30,
                          headers={"Authorization": f"Bearer {key}"}, **kwargs)
        assert r.is_success, r.text
        return r.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, small_model: SpamModel
           ) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("dashboard")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    port, data, log = _free_port(), base / "data", base / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--data-dir", str(data), "--log-level", "info"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not come up in 90 s"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        # A second version beside the bundled one (active), for the models page.
        added = subprocess.run([*CLI, "models", "add", str(save_model(small_model,
                                                                      base / "small")),
                                "--registry", str(data / "models")], env=env,
                               capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
        yield Server(url, data, log, env)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")  # a fresh profile
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, condition: Any, what: str, timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d), what)


def _page(driver: WebDriver, name: str) -> None:
    """Wait until page ``name`` has rendered (its data loaded)."""
    def ready(d: WebDriver) -> bool:
        page = d.find_element("id", "page")
        return (page.get_attribute("data-page") == name
                and page.get_attribute("data-ready") == "true")

    _wait(driver, ready, f"the {name} page to render")
    # A list put where an element belongs renders as "[object HTMLDivElement]".
    assert "[object " not in driver.find_element("id", "page").text


def _log_in(driver: WebDriver, url: str, key: str) -> None:
    driver.get(f"{url}/")
    field = _wait(driver, lambda d: d.find_element("id", "key").is_displayed()
                  and d.find_element("id", "key"), "the login form")
    field.send_keys(key)
    driver.find_element("id", "login-button").click()


def _problems(driver: WebDriver) -> list[dict[str, Any]]:
    """Console entries at warning or above (Chromium says WARNING and SEVERE)."""
    return [e for e in driver.get_log("browser") if e["level"] in ("WARNING", "SEVERE")]


def _text(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element("id", element_id).text)


def test_log_in_learn_and_activate(server: Server, browser: WebDriver) -> None:
    key = server.key("admin")
    r = httpx.post(f"{server.url}/v1/classify", content=MESSAGE, timeout=30)
    assert r.status_code == 200, r.text
    cid = r.json()["classification_id"]

    _log_in(browser, server.url, key)
    _page(browser, "history")
    first = browser.find_element("css selector", "#history tbody tr")
    assert first.get_attribute("data-id") == cid and SUBJECT in first.text
    assert "dana@example.org" in first.text
    assert browser.execute_script("return sessionStorage.getItem('spamsift.key')") == key
    assert browser.execute_script("return localStorage.length") == 0
    assert browser.get_cookies() == []

    first.find_element("css selector", "a.message-link").click()
    _page(browser, "message")
    assert _text(browser, "subject") == SUBJECT
    assert browser.find_elements("css selector", "#clues svg g.clue")  # the clue chart
    assert "text/plain" in _text(browser, "parts")
    browser.find_element("id", "learn-spam").click()
    _wait(browser, lambda d: "Learned as spam" in _text(d, "status"), "learning to finish")
    votes = server.api("GET", f"/v1/classifications/{cid}", key)["votes"]
    assert [(v["label"], v["source"], v["by_you"]) for v in votes] == [("spam", "api", True)]
    assert browser.find_element("css selector", "#votes tbody tr").get_attribute(
        "data-event") == votes[0]["event_id"]

    models = server.api("GET", "/v1/models", key)
    other = next(v["version"] for v in models["versions"] if not v["is_active"])
    reports = server.data / "retrain-reports"  # as `spamsift retrain` leaves them
    reports.mkdir(exist_ok=True)
    (reports / f"{other}.json").write_text(json.dumps({
        "decision": "kept", "reason": "it missed more spam", "version": other,
        "previous_version": models["active"], "challenger": {"fpr": 0.001, "fnr": 0.08},
        "champion": {"fpr": 0.001, "fnr": 0.06}}))
    browser.find_element("css selector", "#nav a[data-page='models']").click()
    _page(browser, "models")
    browser.find_element("css selector", f"button.report[data-version='{other}']").click()
    _wait(browser, lambda d: "it missed more spam" in _text(d, "report"), "the report")
    browser.find_element("css selector", f"button.activate[data-version='{other}']").click()
    assert browser.find_element("id", "confirm").is_displayed()  # nothing changed yet
    assert server.api("GET", "/v1/models", key)["active"] == models["active"]
    browser.find_element("id", "confirm-activate").click()
    _wait(browser, lambda d: f"Now serving {other}" in _text(d, "status"), "the activation")
    assert server.api("GET", "/v1/models", key)["active"] == other
    # The worker that activated it serves it at once; the server's other workers (one
    # per core) pick it up at their next registry poll.
    deadline = time.monotonic() + 30
    while httpx.get(f"{server.url}/readyz", timeout=30).json()["model_version"] != other:
        assert time.monotonic() < deadline, "a worker still serves the old version"
        time.sleep(0.1)

    for name in ("conflicts", "stats", "history"):
        browser.find_element("css selector", f"#nav a[data-page='{name}']").click()
        _page(browser, name)
    assert browser.find_elements("css selector", "#chart-rate svg rect") is not None
    assert _problems(browser) == []
    assert key not in browser.current_url
    assert key not in server.log.read_text()  # not in the access log, nor anywhere


def test_a_read_key_looks_but_cannot_teach(server: Server, browser: WebDriver) -> None:
    key = server.key("read")
    cid = httpx.post(f"{server.url}/v1/classify", content=MESSAGE, timeout=30).json()[
        "classification_id"]
    _log_in(browser, server.url, key)
    _page(browser, "history")
    models_link = browser.find_element("css selector", "#nav a[data-page='models']")
    assert not models_link.is_displayed()
    browser.get(f"{server.url}/#/message/{cid}")
    _page(browser, "message")
    assert browser.find_elements("id", "learn-spam") == []
    browser.get(f"{server.url}/#/stats")
    _page(browser, "stats")
    assert browser.find_element("id", "chart-latency").find_elements("css selector", "svg")
    browser.find_element("id", "logout").click()
    _wait(browser, lambda d: d.find_element("id", "login").is_displayed(), "the login form")
    assert browser.execute_script("return sessionStorage.getItem('spamsift.key')") is None
    assert _problems(browser) == []


def test_no_key_no_data_and_a_wrong_key_is_refused(server: Server, browser: WebDriver
                                                    ) -> None:
    browser.get(f"{server.url}/#/history")
    _wait(browser, lambda d: d.find_element("id", "login").is_displayed(), "the login form")
    assert not browser.find_element("id", "page").is_displayed()
    assert _problems(browser) == []
    feedback_only = server.key("feedback")
    for key, says in (("ss_000000000000_" + "A" * 43, "does not know this key"),
                      (feedback_only, "lacks the read scope")):
        _log_in(browser, server.url, key)
        _wait(browser, lambda d, says=says: says in _text(d, "login-error"), "the refusal")
        assert browser.execute_script("return sessionStorage.getItem('spamsift.key')") is None
    # The only console errors are the server's two refusals of /v1/me.
    problems = _problems(browser)
    assert len(problems) == 2 and all("/v1/me" in p["message"] for p in problems), problems
