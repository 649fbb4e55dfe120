from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from tapkit.http import RetryPolicy, error_detail, retry_after_seconds, scrub
from tapkit.settings import check_common_config
from tapkit.throttle import LeakyBucket, Limit, Throttle


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_limits_parse_the_documented_notation() -> None:
    assert Limit.parse("75/s") == Limit(75, 1.0)
    assert Limit.parse("750/m") == Limit(750, 60.0)
    assert Limit.parse("750/m").scaled(0.5) == Limit(375, 60.0)
    with pytest.raises(ValueError, match="75/s"):
        Limit.parse("fast")


def test_throttle_allows_the_burst_then_paces_to_the_steady_rate() -> None:
    time = FakeTime()
    throttle = Throttle(
        [Limit.parse("3/s"), Limit.parse("60/m")], clock=time.clock, sleep=time.sleep
    )
    for _ in range(3):
        assert throttle.acquire() == 0
    # the buckets refill continuously: the fourth waits a third of a second, not a second
    assert throttle.acquire() == pytest.approx(1 / 3)
    for _ in range(176):
        throttle.acquire()
    # 180 requests from full buckets: the steady one (60, one a second) binds: 120 more
    # tokens take 120 s (a sliding window would have needed 139 s)
    assert time.now - 100.0 == pytest.approx(120.0)


def test_headroom_keeps_tokens_back_for_requests_in_flight_at_the_same_rate() -> None:
    time = FakeTime()
    throttle = Throttle(
        [Limit.parse("10/s"), Limit.parse("600/m")], clock=time.clock, sleep=time.sleep, headroom=7
    )
    for _ in range(5):  # 10/s less 7, but never less than half the bucket
        assert throttle.acquire() == 0
    assert throttle.acquire() == pytest.approx(0.1)  # then the documented 10/s
    start = time.now
    for _ in range(100):
        throttle.acquire()
    # the steady bucket (600/m less 7) still refills at 10/s
    assert time.now - start == pytest.approx(10.0, abs=0.2)


@pytest.mark.parametrize(("headroom", "accepted"), [(0, False), (3, True)])
def test_headroom_absorbs_a_request_that_arrives_late_into_a_full_bucket(
    headroom: int, accepted: bool
) -> None:
    """Requests sent at the limit, a pause (both buckets fill up again), a burst: one request
    sent before the pause reaches the server with the burst.  Without headroom the server's
    full bucket has one token too few (B4 saw that with 8 requests in flight)."""
    limits = [Limit.parse("10/s")]
    time = FakeTime()
    throttle = Throttle(limits, clock=time.clock, sleep=time.sleep, headroom=headroom)
    sent = []
    for _ in range(12):
        throttle.acquire()
        sent.append(time.now)
    time.now += 5.0  # the tap waits on something else
    for _ in range(10):
        throttle.acquire()
        sent.append(time.now)
    arrived = sorted([*sent[:11], sent[12], *sent[12:]])  # the 12th arrives with the burst
    assert accepted_by_buckets(arrived, limits) is accepted


def accepted_by_buckets(sent: list[float], limits: list[Limit]) -> bool:
    """Whether a server with these token buckets (full at the first request) accepts all."""
    tokens = [float(limit.requests) for limit in limits]
    last = sent[0]
    for moment in sent:
        for index, limit in enumerate(limits):
            rate = limit.requests / limit.per_seconds
            tokens[index] = min(limit.requests, tokens[index] + (moment - last) * rate)
            if tokens[index] < 1.0 - 1e-9:
                return False
            tokens[index] -= 1.0
        last = moment
    return True


def test_throttle_stays_within_the_servers_buckets_and_uses_them() -> None:
    time = FakeTime()
    limits = [Limit.parse("10/s"), Limit.parse("150/m")]
    throttle = Throttle(limits, clock=time.clock, sleep=time.sleep)
    sent = []
    for _ in range(500):
        throttle.acquire()
        sent.append(time.now)
    assert accepted_by_buckets(sent, limits)
    assert not accepted_by_buckets([t * 0.99 for t in sent], limits)  # no slack left
    # the least the buckets allow: 350 tokens beyond the 150 at 2.5 a second
    assert sent[-1] - sent[0] == pytest.approx(140.0)


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers or {})
    response.reason = "Reason"
    return response


def test_leaky_bucket_spends_the_burst_then_paces_to_the_leak() -> None:
    time = FakeTime()
    bucket = LeakyBucket(40, 2.0, headroom=2, clock=time.clock, sleep=time.sleep)
    for _ in range(38):
        assert bucket.acquire() == 0
    assert bucket.acquire() == pytest.approx(0.5)  # 39th would leave less than 2 free
    time.now += 10  # 20 leaked away
    assert bucket.acquire() == 0


def test_leaky_bucket_follows_what_the_server_reports() -> None:
    time = FakeTime()
    bucket = LeakyBucket(40, 2.0, headroom=2, clock=time.clock, sleep=time.sleep)
    bucket.acquire()
    # Another client of the same shop filled the bucket: the server's count wins.
    bucket.report(used=38, size=40)
    assert bucket.acquire() == pytest.approx(0.5)
    bucket.report(used=3, size=80)  # a Plus shop's bigger bucket
    assert bucket.acquire() == 0
    assert bucket.size == 80
    with pytest.raises(ValueError, match="leak"):
        LeakyBucket(40, 0)


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert retry_after_seconds(_response(429, b"", {"Retry-After": "7"})) == 7
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    dated = _response(429, b"", {"Retry-After": "Thu, 01 Jan 2026 00:00:30 GMT"})
    assert retry_after_seconds(dated, now=now) == 30
    assert retry_after_seconds(_response(429, b"", {"Retry-After": "2.0"})) == 2.0  # Shopify
    assert retry_after_seconds(_response(429, b"", {"Retry-After": "-1"})) is None
    assert retry_after_seconds(_response(429, b"", {"Retry-After": "soon"})) is None
    assert retry_after_seconds(_response(429, b"")) is None


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base=1, max_wait=10)
    waits = [policy.backoff(attempt) for attempt in range(1, 12) for _ in range(20)]
    assert all(0 <= w <= 10 for w in waits)
    assert len(set(waits)) > 100


def test_error_detail_reads_json_api_and_common_shapes() -> None:
    jsonapi = b'{"errors":[{"id":"x","status":400,"code":"invalid","title":"Invalid input.","detail":"bad filter","source":{"parameter":"filter"}}]}'
    assert error_detail(_response(400, jsonapi)) == "Invalid input. bad filter (parameter: filter)"
    assert error_detail(_response(400, b'{"error":"nope"}')) == "nope"
    assert error_detail(_response(502, b"<html><body>Bad Gateway</body></html>")) == "Reason"
    assert error_detail(_response(500, b"plain text")) == "plain text"


def test_scrub_removes_secrets_and_their_url_forms() -> None:
    text = "failed https://x/api?key=pk_abc%2Fdef and pk_abc/def"
    assert scrub(text, ["pk_abc/def"]) == "failed https://x/api?key=[redacted] and [redacted]"


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"start_date": "yesterday"}, "start_date: 'yesterday' is not an ISO 8601"),
        (
            {"start_date": "2024-02-01T00:00:00Z", "end_date": "2024-01-01T00:00:00Z"},
            "end_date (2024-01-01T00:00:00Z) must be after",
        ),
        ({"backfill_window_days": 0}, "backfill_window_days: must be an integer of at least 1"),
        ({"rate_limit_percent": -1}, "rate_limit_percent: must be an integer of at least 0"),
    ],
)
def test_config_problems_name_the_setting(config: dict, fragment: str) -> None:
    assert any(fragment in e for e in check_common_config(config)), check_common_config(config)


def test_good_config_has_no_problems() -> None:
    assert (
        check_common_config(
            {
                "start_date": "2024-01-01T00:00:00Z",
                "end_date": "2024-02-01",
                "backfill_window_days": 7,
            }
        )
        == []
    )
