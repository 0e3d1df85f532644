"""Token buckets: bursts, refill, separate callers, 429 with Retry-After."""

from __future__ import annotations

import pytest

from serving.api.support import MakeClient, bearer
from spamsift.serving.api.ratelimit import RateLimiter


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
