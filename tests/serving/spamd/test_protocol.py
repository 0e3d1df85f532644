"""Requests parsed and answers built as spamd does; bad requests get their EX_ code."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamsift.exceptions import InputError
from spamsift.models.spam_model import Verdict
from spamsift.serving.markup import scan_of
from spamsift.serving.spamd.protocol import (
    MAX_HEADERS,
    Ex,
    Request,
    SpamdError,
    check_response,
    error_response,
    inflate,
    parse_headers,
    parse_request_line,
    process_response,
    tell_response,
)
from strategies import arbitrary_bytes

SPAM = scan_of(Verdict(0.99, "spam", 6.0, [("subj:free", 1.25), ("a b", 0.5)]), 0.9626, "v1")
HAM = scan_of(Verdict(0.001, "ham", -7.0, [("subj:re", -0.5)]), 0.9626, "v1")


def _request(head: bytes) -> Request:
    first, *rest = head.split(b"\r\n")
    return parse_headers(parse_request_line(first), [line for line in rest if line])


@pytest.mark.parametrize(("line", "method", "version"), [
    pytest.param(b"CHECK SPAMC/1.5\r\n", "CHECK", (1, 5), id="check"),
    pytest.param(b"REPORT_IFSPAM SPAMC/1.2\n", "REPORT_IFSPAM", (1, 2), id="lf-only"),
    pytest.param(b"PROCESS SPAMC/1.0", "PROCESS", (1, 0), id="no-line-end"),
    pytest.param(b"TELL SPAMC/1.3\r\n", "TELL", (1, 3), id="tell"),
])
def test_request_lines(line: bytes, method: str, version: tuple[int, int]) -> None:
    req = parse_request_line(line)
    assert (req.method, req.version) == (method, version)


@pytest.mark.parametrize("line", [
    pytest.param(b"HELLO SPAMC/1.5\r\n", id="unknown-method"),
    pytest.param(b"CHECK HTTP/1.1\r\n", id="not-spamc"),
    pytest.param(b"check SPAMC/1.5\r\n", id="lower-case"),
    pytest.param(b"CHECK SPAMC/2.0\r\n", id="version-2"),
    pytest.param(b"CHECK SPAMC/0.9\r\n", id="version-0"),
    pytest.param(b"GET / HTTP/1.0\r\n", id="http"),
    pytest.param(b"\r\n", id="empty"),
    pytest.param(b"CHECK SPAMC/1.5 extra\r\n", id="trailing-words"),
])
def test_bad_request_lines_are_ex_protocol(line: bytes) -> None:
    with pytest.raises(SpamdError) as info:
        parse_request_line(line)
    assert info.value.code == Ex.EX_PROTOCOL
    assert isinstance(info.value, InputError)


def test_headers_are_read_case_insensitively_and_unknown_ones_ignored() -> None:
    req = _request(b"TELL SPAMC/1.5\r\ncontent-LENGTH: 12\r\nUser: ann\r\nX-Whatever: 1\r\n"
                   b"Message-class: SPAM\r\nSet: local, remote\r\n")
    assert (req.content_length, req.user, req.message_class) == (12, "ann", "spam")
    assert req.set_local and req.set_remote and not req.remove_local


@pytest.mark.parametrize(("head", "code"), [
    pytest.param(b"CHECK SPAMC/1.5\r\nContent-length: 12a\r\n", Ex.EX_PROTOCOL, id="bad-length"),
    pytest.param(b"CHECK SPAMC/1.5\r\nContent-length: -1\r\n", Ex.EX_PROTOCOL,
                 id="negative-length"),
    pytest.param(b"CHECK SPAMC/1.5\r\nno colon here\r\n", Ex.EX_PROTOCOL, id="not-a-header"),
    pytest.param(b"CHECK SPAMC/1.5\r\nUser: a\x01b\r\n", Ex.EX_PROTOCOL, id="control-in-user"),
    pytest.param(b"CHECK SPAMC/1.5\r\nCompress: gzip\r\n", Ex.EX_PROTOCOL, id="not-zlib"),
    pytest.param(b"TELL SPAMC/1.5\r\nMessage-class: eggs\r\nSet: local\r\n", Ex.EX_PROTOCOL,
                 id="bad-class"),
    pytest.param(b"TELL SPAMC/1.5\r\nSet: local\r\n", Ex.EX_PROTOCOL, id="set-without-class"),
    pytest.param(b"TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nRemove: local\r\n",
                 Ex.EX_PROTOCOL, id="set-and-remove"),
])
def test_bad_headers(head: bytes, code: Ex) -> None:
    with pytest.raises(SpamdError) as info:
        _request(head)
    assert info.value.code == code


def test_too_many_headers() -> None:
    with pytest.raises(SpamdError, match="too many headers"):
        parse_headers(parse_request_line(b"CHECK SPAMC/1.5"),
                      [b"X-A: 1"] * (MAX_HEADERS + 1))


@pytest.mark.parametrize(("line", "headers", "body"), [
    pytest.param(b"CHECK SPAMC/1.0", False, True, id="1.0-has-no-headers"),
    pytest.param(b"CHECK SPAMC/1.2", True, True, id="check"),
    pytest.param(b"PING SPAMC/1.2", False, False, id="old-ping"),
    pytest.param(b"PING SPAMC/1.5", True, False, id="ping-1.5-sends-an-empty-line"),
    pytest.param(b"SKIP SPAMC/1.5", True, False, id="skip"),
])
def test_what_follows_the_request_line(line: bytes, headers: bool, body: bool) -> None:
    req = parse_request_line(line)
    assert (req.has_headers, req.has_body) == (headers, body)


@given(arbitrary_bytes)
def test_any_bytes_give_a_request_or_a_spamd_error(data: bytes) -> None:
    lines = data.split(b"\n")
    try:
        req = parse_headers(parse_request_line(lines[0]), lines[1:])
    except SpamdError as exc:
        assert exc.code in (Ex.EX_PROTOCOL,)
        assert error_response(exc.code, str(exc)).count(b"\n") == 1
    else:
        assert req.method in ("CHECK", "SYMBOLS", "REPORT", "REPORT_IFSPAM", "PROCESS",
                              "HEADERS", "PING", "SKIP", "TELL")


@given(st.binary(max_size=2000))
def test_inflate_round_trip_and_limit(data: bytes) -> None:
    packed = zlib.compress(data)
    assert inflate(packed, max(len(data), 1)) == data
    if data:
        with pytest.raises(SpamdError) as info:
            inflate(packed, len(data) - 1) if len(data) > 1 else inflate(packed, 0)
        assert info.value.code == Ex.EX_TOOBIG


@pytest.mark.parametrize("data", [b"not zlib at all", zlib.compress(b"x" * 1000)[:-6]])
def test_bad_zlib_is_ex_dataerr(data: bytes) -> None:
    with pytest.raises(SpamdError) as info:
        inflate(data, 10_000)
    assert info.value.code == Ex.EX_DATAERR


def test_error_lines_are_spamds() -> None:
    assert error_response(Ex.EX_PROTOCOL, "(bad\r\nthing)") == (
        b"SPAMD/1.0 76 Bad header line: (bad thing)\r\n")
    assert error_response(Ex.EX_TOOBIG, "(big)").startswith(b"SPAMD/1.0 98 ")
    assert error_response(Ex.EX_DATAERR, "(z)") == b"SPAMD/1.0 65 EX_DATAERR: (z)\r\n"


def _req(method: str, version: tuple[int, int] = (1, 5)) -> Request:
    return Request(method, version)


def test_check_answers() -> None:
    assert check_response(_req("CHECK"), SPAM) == (
        b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.8 / 5.0\r\n\r\n")
    assert check_response(_req("CHECK"), HAM).endswith(b"Spam: False ; -5.2 / 5.0\r\n\r\n")


def test_symbols_answer_with_and_without_content_length() -> None:
    new = check_response(_req("SYMBOLS"), SPAM)
    assert new.endswith(b"Content-length: 13\r\nSpam: True ; 7.8 / 5.0\r\n\r\nsubj:free,a_b")
    old = check_response(_req("SYMBOLS", (1, 2)), SPAM)
    assert b"Content-length" not in old and old.endswith(b"\r\n\r\nsubj:free,a_b\r\n")


def test_report_ifspam_is_empty_for_ham() -> None:
    assert check_response(_req("REPORT_IFSPAM"), HAM).endswith(
        b"Content-length: 0\r\nSpam: False ; -5.2 / 5.0\r\n\r\n")
    spam = check_response(_req("REPORT_IFSPAM"), SPAM)
    head, _, body = spam.partition(b"\r\n\r\n")
    assert b"Content-length: %d\r\n" % len(body) in head and b"points" in body


@pytest.mark.parametrize(("version", "start"), [
    ((1, 5), b"SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\nSpam: True ; 7.8 / 5.0\r\n\r\n"),
    ((1, 2), b"SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\n\r\n"),
    ((1, 1), b"SPAMD/1.0 0 EX_OK\r\n"),
])
def test_process_answers_by_version(version: tuple[int, int], start: bytes) -> None:
    assert process_response(_req("PROCESS", version), SPAM, b"hello") == start + b"hello"


def test_tell_answers() -> None:
    assert tell_response(["local"], []) == b"SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n"
    assert tell_response([], ["local"]) == b"SPAMD/1.1 0 EX_OK\r\nDidRemove: local\r\n\r\n"
    assert tell_response([], []) == b"SPAMD/1.1 0 EX_OK\r\n\r\n"
