"""Token buckets: bursts, refill, separate callers, 429 with Retry-After; and who
spends no token (classify calls from loopback and the exempt networks)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from serving.api.support import FakeFeedbackStore, MakeClient, bearer
from spamsift.serving.api.ratelimit import RateLimiter

MSG = b"Subject: hi\n\nhello\n"
BATCH = {"messages": [{"id": "1", "message_b64": base64.b64encode(MSG).decode()}]}
TIGHT = {"rate_limit_per_minute": 1, "rate_limit_burst": 2}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_refill_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)
    clock.now += 0.5
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    clock.now += 3600  # refills to the burst size, not beyond
    assert [limiter.take("a") for _ in range(4)][-1] > 0


def test_callers_have_separate_buckets() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, clock=Clock())
    assert limiter.take("key:a") == 0.0
    assert limiter.take("key:a") > 0
    assert limiter.take("key:b") == 0.0


def test_zero_per_minute_turns_it_off() -> None:
    limiter = RateLimiter(per_minute=0, burst=1)
    assert not limiter.enabled
    assert all(limiter.take("a") == 0.0 for _ in range(100))


def test_full_buckets_are_dropped_past_the_cap() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock, max_buckets=3)
    for caller in "abc":
        limiter.take(caller)
    clock.now += 10  # a, b, c have refilled
    limiter.take("d")
    assert set(limiter._buckets) == {"d"}


def test_over_the_limit_is_429_with_retry_after(make_client: MakeClient) -> None:
    client = make_client(rate_limit_per_minute=1, rate_limit_burst=2)
    msg = b"Subject: hi\n\nhello\n"
    assert [client.post("/v1/classify", content=msg).status_code for _ in range(2)] \
        == [200, 200]
    r = client.post("/v1/classify", content=msg)
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited"
    assert 55 <= int(r.headers["retry-after"]) <= 60
    # A key has its own bucket; health and metrics are never limited.
    assert client.post("/v1/classify", content=msg, headers=bearer("classify")).status_code \
        == 200
    assert client.get("/healthz").status_code == 200
    assert "spamsift_rate_limited_total 1.0" in client.get("/metrics").text


def test_guessing_keys_is_rate_limited(make_client: MakeClient) -> None:
    client = make_client(rate_limit_per_minute=1, rate_limit_burst=3)
    codes = [client.get("/v1/models", headers={"Authorization": f"Bearer guess{i}"}
                        ).status_code for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]


@pytest.mark.parametrize("host", [
    pytest.param("127.0.0.1", id="ipv4"),
    pytest.param("127.0.0.53", id="all-of-127/8"),
    pytest.param("::1", id="ipv6"),
])
def test_classify_from_loopback_is_never_limited(make_client: MakeClient, host: str) -> None:
    client = make_client(address=(host, 40000), **TIGHT)
    codes = {client.post("/v1/classify", content=MSG).status_code for _ in range(30)}
    codes |= {client.post("/v1/classify/batch", json=BATCH).status_code for _ in range(10)}
    # with a key too: the address is what is trusted
    codes |= {client.post("/v1/classify", content=MSG, headers=bearer("classify")
                          ).status_code for _ in range(10)}
    assert codes == {200}
    assert "spamsift_rate_limited_total 0.0" in client.get("/metrics").text


def test_exempt_callers_still_have_their_keys_judged(make_client: MakeClient) -> None:
    client = make_client(address=("127.0.0.1", 40000), classify_requires_key=True, **TIGHT)
    codes = [client.post("/v1/classify", content=MSG,
                         headers={"Authorization": f"Bearer guess{i}"}).status_code
             for i in range(5)]
    assert codes == [401] * 5  # refused for the key, never for the rate
    assert client.post("/v1/classify", content=MSG).status_code == 401  # no key at all


@pytest.mark.parametrize(("path", "body"), [
    pytest.param("/v1/classify", {"content": MSG}, id="one"),
    pytest.param("/v1/classify/batch", {"json": BATCH}, id="batch"),
])
def test_classify_from_elsewhere_is_limited(make_client: MakeClient, path: str,
                                            body: dict[str, Any]) -> None:
    client = make_client(address=("192.0.2.10", 40000), **TIGHT)
    codes = [client.post(path, **body).status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]


def test_exempt_networks_from_the_environment(make_client: MakeClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMSIFT_RATE_LIMIT_EXEMPT_NETWORKS", "10.0.0.0/8, 2001:db8::/32")
    inside = make_client(address=("10.1.2.3", 40000), **TIGHT)
    assert {inside.post("/v1/classify", content=MSG).status_code for _ in range(20)} == {200}
    inside_v6 = make_client(address=("2001:db8::25", 40000), **TIGHT)
    assert {inside_v6.post("/v1/classify", content=MSG).status_code
            for _ in range(20)} == {200}
    outside = make_client(address=("11.0.0.1", 40000), **TIGHT)
    assert [outside.post("/v1/classify", content=MSG).status_code for _ in range(3)] == [
        200, 200, 429]


def test_feedback_and_admin_from_loopback_are_limited(make_client: MakeClient) -> None:
    client = make_client(address=("127.0.0.1", 40000), feedback=FakeFeedbackStore(),
                         **TIGHT)
    event = {"message_b64": base64.b64encode(MSG).decode(), "label": "spam"}
    codes = [client.post("/v1/feedback", headers=bearer("feedback"), json=event).status_code
             for _ in range(3)]
    assert codes == [201, 201, 429]
    guesses = [client.get("/v1/models", headers={"Authorization": f"Bearer guess{i}"}
                          ).status_code for i in range(3)]
    assert guesses == [401, 401, 429]  # a token spent before the key is judged
