"""Request bodies: what counts as a message, base64, and the size cap."""

from __future__ import annotations

import pytest

from spamsift.exceptions import InputError, MessageError
from spamsift.serving.api.body import decode_b64, require_message


@pytest.mark.parametrize("raw", [b"x", b"\x00", b"Subject: hi\n\n", bytes(range(256))])
def test_any_non_blank_bytes_are_a_message(raw: bytes) -> None:
    assert require_message(raw) is raw


@pytest.mark.parametrize(("raw", "said"), [
    pytest.param(b"", "an empty body", id="empty"),
    pytest.param(b"\r\n \t", "4 bytes of whitespace only", id="whitespace"),
])
def test_blank_bodies_are_not_messages(raw: bytes, said: str) -> None:
    with pytest.raises(MessageError, match=f"where: expected an RFC 822 message, got {said}"):
        require_message(raw, "where")


def test_base64_may_be_wrapped() -> None:
    assert decode_b64("U3Vi\r\namVj dDog\n\taGk=", "m") == b"Subject: hi"


@pytest.mark.parametrize("value", ["U3Vi*", "U3ViX", "é", "U3Vi\x00"])
def test_bad_base64_names_the_field(value: str) -> None:
    with pytest.raises(InputError, match="messages\\[2\\]: expected standard base64"):
        decode_b64(value, "messages[2]")


def test_base64_of_nothing_is_not_a_message() -> None:
    with pytest.raises(MessageError):
        decode_b64("  ", "m")
