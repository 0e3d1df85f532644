"""The last hour a minute at a time: counts, latency quantiles, the window, the route."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from serving.api.support import FakeFeedbackStore, MakeClient, bearer
from spamsift.serving.api.stats import MinuteStats

MESSAGE = b"From: ann@example.org\nSubject: lunch\n\nNoon at the usual place?\n"


class ManualClock:
    def __init__(self, t: float = 3600.0 * 24) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_minutes_count_verdicts_and_time_requests() -> None:
    clock = ManualClock()
    stats = MinuteStats(window=3, clock=clock)
    stats.verdict("spam")
    for ms in range(1, 101):  # 1..100 ms
        stats.latency(ms / 1000)
    clock.t += 60
    stats.verdict("ham")
    stats.verdict("ham")
    rows = stats.minutes()
    assert [r["start"] for r in rows] == [
        datetime.fromtimestamp(clock.t - clock.t % 60 - 60 * k, UTC) for k in (2, 1, 0)]
    assert [(r["ham"], r["unsure"], r["spam"], r["requests"]) for r in rows] == [
        (0, 0, 0, 0), (0, 0, 1, 100), (2, 0, 0, 0)]
    assert (rows[1]["latency_ms_p50"], rows[1]["latency_ms_p95"]) == (51.0, 96.0)
    assert rows[2]["latency_ms_p50"] is None
    assert stats.totals == {"ham": 2, "unsure": 0, "spam": 1}


def test_old_minutes_leave_the_window() -> None:
    clock = ManualClock()
    stats = MinuteStats(window=2, clock=clock)
    stats.verdict("spam")
    clock.t += 120
    stats.verdict("unsure")
    assert [r["spam"] for r in stats.minutes()] == [0, 0]
    assert len(stats._minutes) == 1  # the old minute is dropped, not only hidden
    assert stats.totals["spam"] == 1  # totals run since start


def test_a_busy_minute_keeps_a_bounded_sample() -> None:
    stats = MinuteStats(samples=50, clock=ManualClock())
    for i in range(5000):
        stats.latency(0.001 if i % 2 else 0.003)
    row = stats.minutes()[-1]
    assert row["requests"] == 5000 and len(stats._minutes[next(iter(stats._minutes))]
                                           .latencies) == 50
    assert row["latency_ms_p50"] in (1.0, 3.0) and row["latency_ms_p95"] == 3.0


def test_the_route_reports_this_process(make_client: MakeClient) -> None:
    client: TestClient = make_client(feedback=FakeFeedbackStore())
    for _ in range(3):
        assert client.post("/v1/classify", content=MESSAGE).status_code == 200
    client.get("/healthz")  # not a classify request: not timed here
    got = client.get("/v1/stats", headers=bearer("admin")).json()
    now = got["minutes"][-1]
    assert len(got["minutes"]) == 60 and now["requests"] == 3
    assert now["ham"] + now["unsure"] + now["spam"] == 3 == sum(got["totals"].values())
    assert now["latency_ms_p50"] > 0 and got["model_version"] == "v1"
    assert got["history_days"] == 30 and got["store"] is None  # the fake keeps no counts
