"""Hostile input: every case gives a ParsedMessage, in bounded time and memory.

The large cases each run in a child process, so that a hang is caught by a
timeout even where no signal reaches (inside the Rust or C parsers), and so
that the child's peak memory is its own. The timeout and the memory ceiling are
hang and blow-up detectors, set far above what the cases take; they are not
speed tests. Each case's time and peak memory are recorded as test properties
(``--junitxml`` shows them).

The Hypothesis properties run in this process under a SIGALRM guard
(``hang_guard``, in conftest.py).
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings

from spamsift.config import ParseLimits
from spamsift.parse import mime as mime_module
from spamsift.parse import parse_message
from spamsift.parse.html_bounds import MAX_DEPTH, MAX_OPEN_FORMATTING, MAX_RECONSTRUCT
from spamsift.parse.marks import MAX_MARK_RUN
from strategies import NONCHARACTERS, arbitrary_bytes, mangled_messages, message_bytes

from ._checks import HANG_SECONDS, KNOWN_FLAGS, check_parsed, longest_mark_run

# A child that imports spamsift.parse and parses a 50 MB message peaks at about
# 120 MB here (the others at 40-80 MB); the ceiling only catches a parse that
# copies without bound.
PEAK_MB_CEILING = 1024

LIMITS = ParseLimits()

HEAD = b"From: sender@example.org\nSubject: hostile\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n"
# fast_mail_parser refuses this part, so a message carrying it is read by the
# standard library's compat32 parser, whose header parsing has slow corners.
BAD_PART = (b"--XX\nContent-Type: application/octet-stream\n"
            b"Content-Transfer-Encoding: base64\n\n!!!!====abc=d\n")
STDLIB_ROUTE = (b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
                b"--XX\nContent-Type: text/plain\n\nbody\n" + BAD_PART + b"--XX--\n")

_CHILD = r"""
import json, sys, time
from pathlib import Path
from spamsift.parse import parse_message

data = Path(sys.argv[1]).read_bytes()
start = time.perf_counter()
m = parse_message(data)
seconds = time.perf_counter() - start
peak_mb = None
try:  # Linux: this process's high-water mark (ru_maxrss survives exec there)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak_mb = int(line.split()[1]) / 2**10
except OSError:
    try:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_mb = peak / 2**20 if sys.platform == "darwin" else peak / 2**10
    except ImportError:
        pass
finite = None
if sys.argv[2:] == ["features"]:  # through the bundled model's featurizer too
    import numpy as np
    from spamsift.models.persistence import load_model
    from spamsift.models.bundled import bundled_model_path
    X = load_model(bundled_model_path()).featurizer.transform_parsed([m])
    finite = bool(np.isfinite(X.data).all())
print(json.dumps({
    "seconds": seconds, "peak_mb": peak_mb, "flags": sorted(m.flags), "size": m.size,
    "subject": m.subject, "from_addr": m.from_addr, "n_parts": m.n_parts,
    "max_depth": m.max_depth, "text_plain": len(m.text_plain), "text_html": len(m.text_html),
    "urls": len(m.urls), "headers": len(m.headers), "fonts": m.html.tags.get("font", 0),
    "plain": m.text_plain, "html": m.text_html, "features_finite": finite,
    "attachments": [[a.filename, a.content_type, a.size] for a in m.attachments],
}))
"""


def _isolated(data: bytes, tmp_path: Path, record_property: Callable[[str, Any], None],
              features: bool = False) -> dict[str, Any]:
    """Parse ``data`` in a child process; its summary, time and peak memory.

    With ``features``, the child featurises the message with the bundled model too
    (after the peak is read) and says whether every feature is finite.
    """
    path = tmp_path / "message.eml"
    path.write_bytes(data)
    argv = [sys.executable, "-c", _CHILD, str(path), *(["features"] if features else [])]
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=HANG_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"parse_message still running after {HANG_SECONDS} s: a hang")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    out: dict[str, Any] = json.loads(proc.stdout)
    record_property("seconds", round(out["seconds"], 3))
    record_property("peak_mb", out["peak_mb"])
    if out["peak_mb"] is not None:
        assert out["peak_mb"] < PEAK_MB_CEILING
    assert set(out["flags"]) <= KNOWN_FLAGS
    return out


Run = Callable[..., dict[str, Any]]


@pytest.fixture
def run(tmp_path: Path, record_property: Callable[[str, Any], None]) -> Run:
    return lambda data, features=False: _isolated(data, tmp_path, record_property, features)


def test_empty_message(run: Run) -> None:
    out = run(b"")
    assert out["flags"] == ["empty", "missing:body", "missing:date", "missing:from",
                            "missing:subject"]
    assert out["n_parts"] == 1


def test_50_mb_message_is_cut_at_max_message_bytes(run: Run) -> None:
    line = b"the same line of text, over and over again\n"
    data = HEAD + b"\n" + line * (50 * 2**20 // len(line))
    out = run(data)
    assert {"truncated:bytes", "truncated:text"} <= set(out["flags"])
    assert out["size"] == len(data)  # the size read is the size sent
    assert out["text_plain"] == LIMITS.max_text_chars
    assert out["subject"] == "hostile"


def _parts(n: int) -> bytes:
    return (HEAD + b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
            + b"".join(b"--XX\nContent-Type: text/plain\n\npart %d\n" % i for i in range(n))
            + b"--XX--\n")


def test_10000_mime_parts(run: Run) -> None:
    out = run(_parts(10_000))
    assert "truncated:parts" in out["flags"]
    assert out["n_parts"] == LIMITS.max_parts + 1


def test_10000_mime_parts_through_the_fallback(run: Run) -> None:
    out = run(_parts(10_000).replace(b"--XX\n", BAD_PART + b"--XX\n", 1))
    assert {"parser:fallback", "truncated:parts"} <= set(out["flags"])
    assert "parser:raw" not in out["flags"]


def _nested(levels: int) -> bytes:
    out = HEAD + b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b00000\n\n"
    out += b"".join(b"--b%05d\nContent-Type: multipart/mixed; boundary=b%05d\n\n" % (i - 1, i)
                    for i in range(1, levels))
    out += b"--b%05d\nContent-Type: text/plain\n\ndeep\n" % (levels - 1)
    return out + b"".join(b"--b%05d--\n" % i for i in reversed(range(levels)))


@pytest.mark.parametrize("levels", [300, 1000, 5000])
def test_deeply_nested_multipart(run: Run, levels: int) -> None:
    # fast_mail_parser refuses nesting past 256 levels; compat32 takes the next
    # few hundred, then raises RecursionError; the raw split reads the rest.
    out = run(_nested(levels))
    assert {"truncated:depth", "parser:fallback"} & set(out["flags"])
    assert out["max_depth"] <= LIMITS.max_depth
    assert out["subject"] == "hostile"


def test_message_rfc822_onion(run: Run) -> None:
    out = run(HEAD + b"Content-Type: message/rfc822\n\n" * 2000 + b"innermost\n")
    assert out["max_depth"] <= LIMITS.max_depth
    assert out["subject"] == "hostile"


@pytest.mark.parametrize("route", [b"\nbody\n", STDLIB_ROUTE], ids=["fast", "stdlib"])
@pytest.mark.parametrize("unit", [b"<", b"a@a,", b"\"a\\", b"(", b"=?"],
                         ids=["lt", "address-list", "open-quotes", "open-comments", "word-starts"])
def test_megabyte_from_header(run: Run, unit: bytes, route: bytes) -> None:
    data = b"From: " + unit * (2**20 // len(unit)) + b"\nSubject: after the bomb\n" + route
    out = run(data)
    assert out["subject"] == "after the bomb"  # the headers after it are still read
    assert "truncated:headers" not in out["flags"]
    # A megabyte of "=?" goes to compat32 whatever the route: see the next test.
    rerouted = route is STDLIB_ROUTE or unit == b"=?"
    assert ("parser:fallback" in out["flags"]) is rerouted


@pytest.mark.parametrize("route", [b"\nbody\n", STDLIB_ROUTE], ids=["fast", "stdlib"])
@pytest.mark.parametrize(
    ("word", "decoded"),
    [(b"=?utf-8?q?=41=42?= ", "AB"), (b"=?utf-8?b?QUJD?=", "ABC"), (b"=?x-foo?q?=E9?=", "é")],
    ids=["q-spaced", "b-unspaced", "unknown-charset"],
)
def test_200_kb_encoded_word_subject(run: Run, word: bytes, decoded: str, route: bytes) -> None:
    data = b"From: a@example.org\nSubject: " + word * (200 * 1024 // len(word)) + b"\n" + route
    out = run(data)
    assert 0 < len(out["subject"]) <= 1000
    assert out["subject"].startswith(decoded * 10)
    assert out["from_addr"] == "a@example.org"


def test_many_headers(run: Run) -> None:
    data = b"".join(b"X-Filler-%d: %d\n" % (i, i) for i in range(100_000)) + b"\nbody\n"
    out = run(data)
    assert "truncated:headers" in out["flags"]
    assert out["headers"] == LIMITS.max_headers


def test_unknown_charset(run: Run) -> None:
    data = HEAD + b"Content-Type: text/plain; charset=x-foo\n\n" + "Grüße ".encode() * 1000
    out = run(data)
    assert "charset:unknown" in out["flags"]
    assert out["text_plain"] == len("Grüße ") * 1000


def test_megabyte_of_lt_in_html(run: Run) -> None:
    out = run(HEAD + b"Content-Type: text/html\n\n<html><body>" + b"<" * 2**20)
    assert out["text_html"] > 0


# HTML that makes a tree builder's work grow faster than the input, and runs of
# combining marks that do the same to NFKC. Each case is written before a
# sentinel word, which must come through.
SENTINEL = "sentinelword"


def _html(body: str, charset: str = "utf-8") -> bytes:
    return (HEAD + f"Content-Type: text/html; charset={charset}\n\n<p>{SENTINEL}</p>".encode()
            + body.encode(charset))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<div>x" * 200_000, id="200000-nested-divs"),
        # A trailing '/' does not close an HTML element: these nest just as deep.
        pytest.param("<div/>x" * 200_000, id="200000-self-closed-divs"),
    ],
)
def test_deeply_nested_html_is_cut(run: Run, body: str) -> None:
    out = run(_html(body), features=True)
    assert "truncated:html_depth" in out["flags"]
    assert out["html"].count("x") <= MAX_DEPTH  # one per level kept
    assert SENTINEL in out["html"]
    assert out["features_finite"]


def test_active_formatting_elements_blow_up_is_bounded(run: Run) -> None:
    # N distinct formatting elements left open inside a block, then M blocks: a
    # tree builder clones the N into each of the M (N x M = 4,000,000 elements).
    n = m = 2_000
    body = ("<div>" + "".join(f"<font a={i}>" for i in range(n)) + "</div>"
            + "<div>x</div>" * m)
    out = run(_html(body), features=True)
    assert "truncated:html_formatting" in out["flags"]
    assert out["fonts"] <= MAX_RECONSTRUCT + MAX_OPEN_FORMATTING
    assert out["html"].count("x") == m  # dropping formatting tags loses no text
    assert SENTINEL in out["html"]
    assert out["features_finite"]


def test_unclosed_formatting_between_paragraphs_is_bounded(run: Run) -> None:
    out = run(_html("<b><i><u><font><p>x" * 50_000), features=True)
    assert {"truncated:html_formatting", "truncated:html_reconstruct"} <= set(out["flags"])
    assert out["fonts"] <= MAX_RECONSTRUCT + MAX_OPEN_FORMATTING
    assert out["html"].count("x") < 50_000
    assert SENTINEL in out["html"]
    assert out["features_finite"]


# 400,000 alternating pairs of marks (canonical classes 230 and 220, so NFKC's
# reordering has work to do at every step), broken into runs by non-characters.
_FLOOD = "".join("\u0301\u0316" * 1_000 + NONCHARACTERS[i % len(NONCHARACTERS)]
                 for i in range(400))


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param(HEAD + f"Content-Type: text/plain; charset=utf-8\n\n{SENTINEL} "
                     f"{_FLOOD}".encode(), "plain", id="plain"),
        pytest.param(_html(_FLOOD), "html", id="html"),
        pytest.param(_html("".join(f"x{'&#769;&#790;' * 100}" for _ in range(2_000))), "html",
                     id="html-character-references"),
    ],
)
def test_combining_mark_floods_are_cut(run: Run, data: bytes, key: str) -> None:
    out = run(data, features=True)
    assert "truncated:marks" in out["flags"]
    text = out[key]
    assert longest_mark_run(text) <= MAX_MARK_RUN
    assert SENTINEL in text
    # Whatever was read of the flood: at most a mark run and the character that
    # ended it, for each run there was.
    assert len(text) <= len(SENTINEL) + 2 + (MAX_MARK_RUN + 1) * 2_000
    assert out["features_finite"]


@pytest.mark.parametrize("unit", [b"http://", b"aaaa@", b"www.", b"http://a."],
                         ids=["schemes", "at-signs", "www", "schemes-and-dots"])
def test_megabyte_runs_in_text(run: Run, unit: bytes) -> None:
    out = run(HEAD + b"\n" + unit * (2**20 // len(unit)))
    assert out["urls"] <= LIMITS.max_urls
    assert "truncated:text" in out["flags"]


def _zip_bomb(uncompressed: int) -> bytes:
    """A small zip whose one member is ``uncompressed`` bytes of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros.bin", "w") as f:
        chunk = bytes(2**20)
        for _ in range(uncompressed // len(chunk)):
            f.write(chunk)
    return buf.getvalue()


def test_zip_bomb_is_recorded_not_opened(run: Run) -> None:
    bomb = _zip_bomb(100 * 2**20)
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:
        assert zf.infolist()[0].file_size == 100 * 2**20  # it would expand a thousandfold
    assert len(bomb) < 2**20
    data = (HEAD + b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
            b"--XX\nContent-Type: text/plain\n\nsee attached\n"
            b"--XX\nContent-Type: application/zip; name=\"invoice.zip\"\n"
            b"Content-Disposition: attachment; filename=\"invoice.zip\"\n"
            b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(bomb) + b"--XX--\n")
    out = run(data)
    assert out["attachments"] == [["invoice.zip", "application/zip", len(bomb)]]
    assert out["flags"] == []


# In-process properties: Hypothesis examples under a SIGALRM hang guard.


_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(arbitrary_bytes)
def test_arbitrary_bytes(data: bytes) -> None:
    check_parsed(parse_message(data))


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(message_bytes())
def test_message_like_bytes(data: bytes) -> None:
    check_parsed(parse_message(data))


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(mangled_messages())
def test_mangled_messages(data: bytes) -> None:
    check_parsed(parse_message(data))


def _refuse(*args: object) -> None:
    raise ValueError("forced by the test")


@pytest.mark.usefixtures("hang_guard")
@settings(_FUZZ, max_examples=100)
@given(mangled_messages())
def test_mangled_messages_through_the_fallbacks(data: bytes) -> None:
    with mock.patch.object(mime_module, "_fast_tree", _refuse):
        m = parse_message(data)
        check_parsed(m)
        # compat32 reads whatever the fast parser refuses.
        assert "parser:raw" not in m.flags
        with mock.patch.object(mime_module, "_stdlib_tree", _refuse):
            check_parsed(parse_message(data))
