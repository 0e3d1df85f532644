"""Hostile messages through every door: ``spamsift classify``, the REST API and spamd.

Each class of message that once made a daemon spend minutes inside one library
call (or gigabytes) gets a verdict with the flag that says what was cut; a message
stuck in a parse worker never holds up another client's answer.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from parse.sandbox_parsers import misbehaving
from serving.api.support import api_settings, make_keys
from serving.spamd.support import exchange, request, running
from spamsift.cli import app as cli_app
from spamsift.config import Settings
from spamsift.models.bundled import bundled_model_path
from spamsift.models.spam_model import SpamModel
from spamsift.parse.sandbox import ParseSandbox
from spamsift.serving.api import create_app
from spamsift.serving.live import Live
from spamsift.serving.model_holder import ModelHolder
from spamsift.serving.spamd.server import SpamdOptions, SpamdServer

HEAD = (b"From: promo@example.com\nTo: you@example.org\nSubject: weekly offers\n"
        b"Date: Tue, 1 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n")
HAM = (b"From: ann@example.org\nTo: bob@example.net\nSubject: lunch\n"
       b"Date: Tue, 1 Dec 2026 10:00:00 +0000\n\nNoon at the usual place?\n")


def _html(body: str) -> bytes:
    return HEAD + b"Content-Type: text/html; charset=utf-8\n\n" + body.encode()


def _formatting_blow_up() -> bytes:
    # 2,000 distinct formatting elements left open, cloned into each of 2,000 blocks.
    opened = "".join(f"<font data-n={i}>" for i in range(2000))
    return _html("<p>sentinel</p><div>" + opened + "</div>" + "<div>x</div>" * 2000)


# Each class (written here, never copied from elsewhere), and the flags any of which
# says it was cut.
HOSTILE = [
    pytest.param(_html("<p>sentinel</p>" + "<div>" * 200_000 + "deep"),
                 {"truncated:html_depth"}, id="html-200000-deep"),
    pytest.param(_formatting_blow_up(),
                 {"truncated:html_formatting", "truncated:html_reconstruct"},
                 id="active-formatting-reconstruction"),
    pytest.param(_html("<p>sentinel</p>" + "<b><i><u><font><s><em><strong><tt>x<p>y" * 50_000),
                 {"truncated:html_formatting", "truncated:html_reconstruct",
                  "truncated:html_depth"}, id="unclosed-formatting-repeated"),
    pytest.param(HEAD + b"Content-Type: text/plain; charset=utf-8\n\nsentinel "
                 + ("a" + "\u0301\u0316" * 2000 + "\ufdd0\uffff\U0001fffe").encode() * 200,
                 {"truncated:marks"}, id="combining-mark-floods"),
]


# -- spamsift classify ------------------------------------------------------------------

@pytest.mark.parametrize("raw, flags", HOSTILE)
def test_classify_answers_with_the_flag(raw: bytes, flags: set[str], tmp_path: Path) -> None:
    path = tmp_path / "hostile.eml"
    path.write_bytes(raw)
    result = CliRunner().invoke(cli_app, ["classify", "--json", "--model",
                                          str(bundled_model_path()), str(path)])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["verdict"] in ("ham", "unsure", "spam")
    assert flags & set(answer["flags"])


# -- REST -------------------------------------------------------------------------------

@pytest.fixture
def rest(small_model: SpamModel) -> Iterator[TestClient]:
    # Messages of 64 KiB and more go through the sandbox: the deep one does, the
    # others are parsed in-process. Either way the bounds hold.
    settings = api_settings(sandbox_min_bytes=64 * 1024)
    app = create_app(ModelHolder.fixed(small_model, version="small"), keys=make_keys(),
                     settings=settings)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        yield client


@pytest.mark.parametrize("raw, flags", HOSTILE)
def test_rest_answers_with_the_flag(rest: TestClient, raw: bytes, flags: set[str]) -> None:
    answer = rest.post("/v1/classify", content=raw,
                       headers={"content-type": "message/rfc822"})
    assert answer.status_code == 200, answer.text
    assert flags & set(answer.json()["flags"])


def test_rest_batch_answers_every_hostile_message(rest: TestClient) -> None:
    messages = [{"id": str(i), "message_b64": base64.b64encode(p.values[0]).decode()}
                for i, p in enumerate(HOSTILE)]
    answer = rest.post("/v1/classify/batch", json={"messages": messages})
    assert answer.status_code == 200, answer.text
    for p, result in zip(HOSTILE, answer.json()["results"], strict=True):
        assert p.values[1] & set(result["flags"])


def _stuck_sandbox() -> ParseSandbox:
    # Every message goes to a worker; "X-Test: spin" sticks in C until killed.
    box = ParseSandbox(min_bytes=0, timeout=5.0, workers=2, parse=misbehaving)
    box.warm()
    return box


STUCK = b"Subject: stuck\nX-Test: spin\n\nwords"


def test_rest_serves_other_clients_while_one_message_is_stuck(small_model: SpamModel) -> None:
    box = _stuck_sandbox()
    app = create_app(ModelHolder.fixed(small_model, version="small"), keys=make_keys(),
                     settings=api_settings(), sandbox=box)
    post = {"headers": {"content-type": "message/rfc822"}}
    with TestClient(app, client=("127.0.0.1", 50000)) as client, ThreadPoolExecutor(2) as pool:
        stuck = pool.submit(client.post, "/v1/classify", content=STUCK, **post)
        while not box.busy:  # the stuck one is in its worker
            threading.Event().wait(0.01)
        quick = client.post("/v1/classify", content=HAM, **post)
        assert quick.status_code == 200 and not stuck.done()
        answer = stuck.result()
        assert answer.status_code == 200
        assert "truncated:time" in answer.json()["flags"]
    assert box.stats.timeouts == 1


# -- spamd ------------------------------------------------------------------------------

def _spamd(model: SpamModel, sandbox: ParseSandbox | None = None) -> SpamdServer:
    holder = ModelHolder.fixed(copy.deepcopy(model), version="small")
    live = Live(holder, None, None, sandbox or ParseSandbox(min_bytes=64 * 1024))
    return SpamdServer(live, Settings(model_poll_seconds=0, top_clues=5),
                       SpamdOptions(timeout=20.0))


@pytest.mark.parametrize("raw, flags", HOSTILE)
def test_spamd_answers_every_hostile_message(small_model: SpamModel, raw: bytes,
                                             flags: set[str]) -> None:
    with running(_spamd(small_model)) as port:
        assert exchange(port, request("CHECK", raw)).startswith(b"SPAMD/1.1 0 EX_OK")
        assert exchange(port, request("CHECK", HAM)).startswith(b"SPAMD/1.1 0 EX_OK")


def test_spamd_serves_other_clients_while_one_message_is_stuck(small_model: SpamModel
                                                               ) -> None:
    box = _stuck_sandbox()
    with running(_spamd(small_model, box)) as port, ThreadPoolExecutor(1) as pool:
        stuck = pool.submit(exchange, port, request("CHECK", STUCK))
        while not box.busy:
            threading.Event().wait(0.01)
        assert exchange(port, request("CHECK", HAM), timeout=5).startswith(b"SPAMD/1.1 0 EX_OK")
        assert not stuck.done()
        assert stuck.result().startswith(b"SPAMD/1.1 0 EX_OK")
    assert box.stats.timeouts == 1
