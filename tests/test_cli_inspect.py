"""``spamsift inspect``: what the pipeline read from each message, as JSON or for a person.

Messages with one attachment of each kind are written here; each extractor's text
and URLs must show in the JSON (one object per line), over files, a folder, an
mbox and stdin, and through the parse sandbox for a large message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from documents import OOXML_TYPES, docx, message_with, odf, pdf, pptx, rtf, xlsx, zip_of
from spamsift.cli import app
from spamsift.mailauth import METHODS as AUTH_METHODS

runner = CliRunner()

ATTACHMENTS = {
    "pdf": ("a.pdf", "application/pdf",
            pdf(["PDF says verify"], links=["http://pdf-link.example/v"], compress=True)),
    "docx": ("a.docx", OOXML_TYPES["docx"], docx(["DOCX says pay"], ["http://docx.example/"])),
    "xlsx": ("a.xlsx", OOXML_TYPES["xlsx"], xlsx(["XLSX says wire"], ["http://xlsx.example/"])),
    "pptx": ("a.pptx", OOXML_TYPES["pptx"], pptx(["PPTX says claim"], ["http://pptx.example/"])),
    "odt": ("a.odt", "application/vnd.oasis.opendocument.text",
            odf(["ODT says log in"], ["http://odt.example/"])),
    "rtf": ("a.rtf", "application/rtf", rtf("RTF says hurry", "http://rtf.example/")),
    "html-attachment": ("a.html", "text/html",
                        b"<html>HTML says sign in <a href='http://html.example/'>x</a></html>"),
}
TEXT = {"pdf": "PDF says verify", "docx": "DOCX says pay", "xlsx": "XLSX says wire",
        "pptx": "PPTX says claim", "odt": "ODT says log in", "rtf": "RTF says hurry",
        "html-attachment": "HTML says sign in"}
URL = {"pdf": "http://pdf-link.example/v", "docx": "http://docx.example/",
       "xlsx": "http://xlsx.example/", "pptx": "http://pptx.example/",
       "odt": "http://odt.example/", "rtf": "http://rtf.example/",
       "html-attachment": "http://html.example/"}


def inspect_json(*args: str, stdin: bytes | None = None) -> list[dict]:
    res = runner.invoke(app, ["inspect", "--json", *args], input=stdin)
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.stdout.splitlines()]


@pytest.mark.parametrize("source", list(ATTACHMENTS))
def test_each_extractor_shows_in_inspect(tmp_path: Path, source: str) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(message_with([ATTACHMENTS[source]], body="the body text",
                                  html="<p>the html text</p>"))
    [r] = inspect_json(str(path))
    assert r["source"] == str(path)
    by_source = {p["source"]: p for p in r["parts"]}
    assert by_source["body"]["text"].strip() == "the body text"
    assert by_source["html"]["text"].strip() == "the html text"
    part = by_source[source]
    assert set(part) >= {"source", "content_type", "filename", "text"}
    assert TEXT[source] in part["text"]
    assert part["filename"] == ATTACHMENTS[source][0]
    assert URL[source] in part["urls"] and URL[source] in r["urls"]
    assert set(AUTH_METHODS) <= set(r["auth"])
    assert isinstance(r["flags"], list)


def test_all_at_once_one_object_per_message_from_a_folder_and_stdin(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    for i, (name, att) in enumerate(ATTACHMENTS.items()):
        (folder / f"{i}-{name}.eml").write_bytes(message_with([att], subject=name))
    results = inspect_json(str(folder))
    assert sorted(r["subject"] for r in results) == sorted(ATTACHMENTS)
    for r in results:
        assert any(TEXT[r["subject"]] in p["text"] for p in r["parts"])
    whole = message_with(list(ATTACHMENTS.values()))
    [r] = inspect_json(stdin=whole)
    assert {p["source"] for p in r["parts"]} >= set(ATTACHMENTS)


def test_mbox_input(tmp_path: Path) -> None:
    box = tmp_path / "box.mbox"
    box.write_bytes(b"".join(b"From x@example.org Mon Jan  1 00:00:00 2024\n"
                             + message_with([ATTACHMENTS[k]], subject=k) + b"\n"
                             for k in ("pdf", "rtf")))
    assert [r["subject"] for r in inspect_json(str(box))] == ["pdf", "rtf"]


def test_flags_and_link_evidence(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(message_with(
        [("bad.pdf", "application/pdf", b"%PDF-1.4 broken"),
         ("z.zip", "application/zip", zip_of({"in.zip": zip_of({"x.pdf": b"x"})}))],
        html="<a href='http://xn--pypal-4ve.com/'>www.paypal.com</a> <a href='https://bit.ly/'>"
             "x</a>"))
    [r] = inspect_json(str(path))
    assert {"extract:broken:pdf", "extract:nested_archive"} <= set(r["flags"])
    assert {"url:idn", "url:confusable:paypal", "url:shortener",
            "url:text_mismatch"} <= set(r["link_evidence"])


def test_max_chars_cuts_the_text_shown(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(message_with([ATTACHMENTS["docx"]], body="x" * 500))
    [r] = inspect_json("--max-chars", "10", str(path))
    body = r["parts"][0]
    assert len(body["text"]) == 10 and body["cut"] and body["chars"] == 500


def test_large_message_parses_in_the_sandbox(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMSIFT_SANDBOX_MIN_BYTES", "0")  # every message to a worker
    path = tmp_path / "m.eml"
    path.write_bytes(message_with([ATTACHMENTS["pdf"]]))
    [r] = inspect_json(str(path))
    assert any(TEXT["pdf"] in p["text"] for p in r["parts"])


def test_human_output(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(message_with([ATTACHMENTS["pdf"]], subject="For a person"))
    res = runner.invoke(app, ["inspect", str(path)])
    assert res.exit_code == 0, res.output
    for want in ("For a person", "pdf", "PDF says verify", "http://pdf-link.example/v",
                 "dmarc", "flags"):
        assert want in res.stdout


def test_unreadable_input_is_an_input_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["inspect", "--json", str(tmp_path / "missing.eml")])
    assert res.exit_code == 3


def test_auth_shows_the_sites_trusted_results_and_ignores_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMSIFT_TRUSTED_AUTHSERV_IDS", "mx.example.net")
    monkeypatch.setenv("SPAMSIFT_AUTH_VERIFY", "never")
    path = tmp_path / "m.eml"
    path.write_bytes(
        b"Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=a.example;"
        b" dkim=fail header.d=a.example; dmarc=fail header.from=a.example\n"
        b"Authentication-Results: forged.example; dkim=pass header.d=a.example\n"
        b"From: x@a.example\nSubject: hi\n\nbody\n")
    [r] = inspect_json(str(path))
    assert r["auth"]["spf"] == {**r["auth"]["spf"], "result": "pass",
                                "source": "trusted-header"}
    assert r["auth"]["dkim"]["result"] == "fail" and r["auth"]["dmarc"]["result"] == "fail"
    assert r["auth"]["untrusted_authentication_results"] == 1


def test_input_is_cut_at_the_sites_size_cap(tmp_path: Path) -> None:
    """The one message-size cap (``limits.max_message_bytes``) holds where messages
    are read, as in every door, not the ingest default's 10 MiB. (``classify`` reads
    through the same function; there the parse caps at the same size as well.)"""
    body = b"lunch on friday at noon " * 40
    (tmp_path / "m.eml").write_bytes(b"From: a@example.org\nSubject: hi\n\n" + body)

    def size(cap: int) -> int:
        result = runner.invoke(app, ["inspect", "--json", str(tmp_path / "m.eml")],
                               env={"SPAMSIFT_LIMITS": json.dumps({"max_message_bytes": cap})})
        assert result.exit_code == 0, result.output
        return int(json.loads(result.stdout.splitlines()[0])["size"])

    assert (size(200), size(1 << 20)) == (200, 33 + len(body))
