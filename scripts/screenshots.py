"""Screenshots of the dashboard's pages, for README, from a running service.

Starts ``spamsift serve`` on a fresh data folder in a temporary directory (loopback,
a free port), creates an admin key with ``spamsift keys create``, adds a second model
version (a copy of the bundled one) with ``spamsift models add``, classifies a few
hand-written messages through the API in bursts a minute apart (so the statistics
have more than one minute to show), gives some feedback (one message two users
disagree about), then drives Debian's headless Chromium through each page and saves
a 1280x800 PNG of each under ``docs/screenshots/`` (the message and the statistics
whole, up to 1600 px high)::

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--minutes 3]

Needs what the browser tests need: ``chromium`` and ``chromium-driver`` (Debian's
packages; ``scripts/install-deps.sh``) and Selenium (the test extra). Takes about
``--minutes`` minutes. Nothing leaves the machine: the browser talks to loopback only.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CLI = [sys.executable, "-m", "spamsift.cli"]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars")
WIDTH, HEIGHT = 1280, 800

# Written as mail arrives: relayed, with a mail client's headers; replies quote.
HAM = [
    ("Dana Reyes <dana@example.org>", "Re: quarterly figures",
     "On Fri, Lee wrote:\n> Can you send the figures before Thursday?\n\nSure, they are in "
     "the shared folder under reports/2025-q4. The totals\nmatch what finance sent last week, "
     "except the travel line, which I\nhave not reconciled yet.\n\nDana\n"),
    ("Sam Okafor <sam@example.net>", "Re: [PATCH] fix the build on ARM",
     "On Tue, Lee wrote:\n> The build fails on ARM since yesterday's merge.\n\nThanks for "
     "the report. The cast in parse.c was wrong on 32-bit; the\nattached patch fixes it and "
     "the test suite passes here.\n\nSam\n"),
    ("Priya Shah <priya@example.org>", "Re: lunch on Friday?",
     "On Wed, Lee wrote:\n> Lunch on Friday?\n\nYes, noon works for me. The usual place, or "
     "should we try the new\nnoodle bar near the station?\n\nPriya\n"),
    ("builds@ci.example.org", "Nightly build passed",
     "Nightly build of the release branch: all 1204 tests passed.\nDuration 14 minutes. "
     "Artifacts are on the build server as usual.\n"),
]
SPAM = [
    ("Prize Desk <winner@win-big.example>", "You have WON a FREE cruise!!!",
     "CONGRATULATIONS! You have been selected. Click here http://win-big.example/claim "
     "to claim your FREE prize today. Limited offer, act now!"),
    ("pharmacy@cheap-deals.example", "Cheap meds online, no prescription",
     "Buy cheap pills online! Lowest price guaranteed, no prescription needed. Order now "
     "at http://cheap-deals.example/shop and save 80%. Money back guarantee!!!"),
    ("Earn Fast <jobs@promo-mail.example>", "Make $5000 a week from home",
     "Earn $5000 per week working from home. No experience needed, guaranteed income. "
     "Visit http://promo-mail.example/join to start today. Click here to remove."),
]


def message(sender: str, subject: str, body: str, n: int) -> bytes:
    reply = "In-Reply-To: <lee-1@example.net>\n" if subject.startswith("Re:") else ""
    return ("Return-Path: <bounces@example.org>\n"
            "Received: from mail.example.org (mail.example.org [192.0.2.10])\n"
            "\tby mx.example.net (Postfix) with ESMTP id 4F2A1;\n"
            f"\tMon, 1 Dec 2025 10:{n % 60:02d}:00 +0000\n"
            f"From: {sender}\nTo: lee@example.net\nSubject: {subject}\n"
            f"Date: Mon, 01 Dec 2025 10:{n % 60:02d}:00 +0000\n"
            f"Message-ID: <shot-{n}@example.org>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\nUser-Agent: Mutt/1.5.4i\n"
            f"{reply}\n{body}\n").encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(data: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--data-dir", str(data), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("spamsift serve did not come up")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"spamsift {' '.join(args[:2])} failed: {done.stderr}")
    return done.stdout.strip()


def seed(url: str, key: str, minutes: int) -> dict[str, str]:
    """Classify the messages in ``minutes`` bursts; feedback on some. Returns ids by role."""
    auth = {"Authorization": f"Bearer {key}"}
    ids: dict[str, str] = {}
    for burst in range(minutes):
        if burst:
            time.sleep(61 - time.time() % 60)  # into the next minute
        for i, (sender, subject, body) in enumerate(HAM + SPAM):
            if burst and (i + burst) % (burst + 2) == 0:  # bursts of differing size
                continue
            r = httpx.post(f"{url}/v1/classify", content=message(sender, subject, body, i),
                           timeout=30)
            r.raise_for_status()
            ids.setdefault(subject, r.json()["classification_id"])
    spam, ham = ids[SPAM[0][1]], ids[HAM[0][1]]
    contested = ids[SPAM[1][1]]
    for body in ({"classification_id": spam, "label": "spam", "user": "lee@example.net"},
                 {"classification_id": ham, "label": "ham", "user": "lee@example.net"},
                 {"classification_id": contested, "label": "spam", "user": "lee@example.net"},
                 {"classification_id": contested, "label": "ham", "user": "kim@example.net"}):
        httpx.post(f"{url}/v1/feedback", json=body, headers=auth, timeout=30).raise_for_status()
    return {"spam": spam, "ham": ham}


def browser(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    return driver


def rendered(driver: WebDriver, page: str) -> None:
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element("id", "page").get_attribute("data-page") == page
        and d.find_element("id", "page").get_attribute("data-ready") == "true",
        f"the {page} page")
    time.sleep(0.3)  # fonts and layout settle


def shoot(driver: WebDriver, path: Path, full: bool = False) -> None:
    """A PNG of the viewport; with ``full``, of the whole page (up to 1600 px high)."""
    height = HEIGHT
    if full:
        height = min(1600, max(HEIGHT, int(driver.execute_script(
            "return document.documentElement.scrollHeight"))))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False})
    time.sleep(0.2)
    png = base64.b64decode(driver.get_screenshot_as_base64())
    image = Image.open(io.BytesIO(png)).convert("RGB")
    # 256 colours: the pages are flat colour and text, and the files stay small.
    image.quantize(256).save(path, optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--minutes", type=int, default=3,
                        help="Minutes of traffic to seed (the statistics chart them).")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    with tempfile.TemporaryDirectory(prefix="spamsift-shots-") as tmp:
        data = Path(tmp) / "data"
        with serving(data, env) as url:
            key = cli(env, "keys", "create", "--scope", "admin", "--name", "ops",
                      "--data-dir", str(data)).splitlines()[-1]
            from spamsift.models.bundled import bundled_model_path

            copy = Path(tmp) / "copy"
            shutil.copytree(bundled_model_path(), copy)
            cli(env, "models", "add", str(copy), "--registry", str(data / "models"))
            ids = seed(url, key, args.minutes)
            driver = browser(Path(tmp) / "profile")
            try:
                driver.get(f"{url}/")
                WebDriverWait(driver, 20).until(
                    lambda d: d.find_element("id", "key").is_displayed(), "the login form")
                time.sleep(0.3)
                shoot(driver, args.out / "login.png")
                driver.find_element("id", "key").send_keys(key)
                driver.find_element("id", "login-button").click()
                rendered(driver, "history")
                shoot(driver, args.out / "history.png")
                for name, hash_, page in (("message", f"#/message/{ids['spam']}", "message"),
                                          ("conflicts", "#/conflicts", "conflicts"),
                                          ("statistics", "#/stats", "stats"),
                                          ("models", "#/models", "models")):
                    driver.get(f"{url}/{hash_}")
                    rendered(driver, page)
                    if page == "models":  # show the confirmation step
                        driver.find_element("css selector", "button.activate").click()
                        time.sleep(0.2)
                    shoot(driver, args.out / f"{name}.png",
                          full=page in ("message", "stats"))
            finally:
                driver.quit()


if __name__ == "__main__":
    main()
