"""The rate budget's buckets, on a fake clock and on the session's real Redis,
and how the Zendesk client spends it."""

import logging
import uuid

import pytest
import redis
import responses

from zendesk import ServerError, ZendeskClient
from zendesk.budget import (
    REDIS_RETRY_SECONDS,
    SLOW_SECONDS,
    BudgetRate,
    LocalBucket,
    RateBudget,
    RedisBucket,
    bucket_key,
    rate_budget,
)

# One request a second, two at once: waits come out in whole seconds.
RATE = BudgetRate(per_second=1.0, burst=2.0)
UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"
API = "https://example.zendesk.com/api/v2"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def connection(redis_url):
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def key():
    # A key of its own: the session's Redis is shared with other tests.
    return bucket_key(f"https://test-{uuid.uuid4().hex}.zendesk.com")


def reservations(bucket, count: int, longest_wait: float = 60) -> list[float]:
    return [round(bucket.reserve(longest_wait), 1) for _ in range(count)]


# The rate


def test_the_budget_is_a_share_of_the_account_limit_with_a_small_burst():
    rate = BudgetRate.share_of(300, 80)

    assert rate.per_minute == pytest.approx(240)
    assert rate.per_second == pytest.approx(4)
    assert rate.burst == pytest.approx(8)  # two seconds' worth
    assert BudgetRate.share_of(10, 1).burst == 1  # always room for one call


@pytest.mark.parametrize(("limit", "percent"), [(0, 80), (700, 0), (700, 101)])
def test_a_budget_outside_its_bounds_is_refused(limit, percent):
    with pytest.raises(ValueError):
        BudgetRate.share_of(limit, percent)


# The bucket of one process


def test_after_the_burst_each_request_waits_its_turn(clock):
    bucket = LocalBucket(RATE, clock=clock)

    assert reservations(bucket, 5) == [0, 0, 1, 2, 3]


def test_a_quiet_spell_refills_the_bucket_only_up_to_the_burst(clock):
    bucket = LocalBucket(RATE, clock=clock)
    reservations(bucket, 2)

    clock.now += 3600

    assert reservations(bucket, 3) == [0, 0, 1]


def test_a_turn_further_away_than_the_longest_wait_is_not_taken(clock):
    bucket = LocalBucket(RATE, clock=clock)
    reservations(bucket, 4)  # the next turn is 3 s away

    assert bucket.reserve(longest_wait=2) is None
    assert bucket.reserve(longest_wait=3) == pytest.approx(3)


def test_slowing_down_halves_the_rate_for_a_while(clock):
    bucket = LocalBucket(RATE, clock=clock)
    reservations(bucket, 2)

    assert bucket.slow_down(SLOW_SECONDS) is True
    assert bucket.slow_down(SLOW_SECONDS) is False  # already slow
    assert reservations(bucket, 2) == [2, 4]

    clock.now += 100
    reservations(bucket, 2)
    assert reservations(bucket, 2) == [1, 2]


# The shared bucket in Redis


def test_the_redis_bucket_hands_out_turns_like_the_local_one(connection, key):
    bucket = RedisBucket(connection, key, RATE)

    assert reservations(bucket, 5) == [0, 0, 1, 2, 3]


def test_processes_sharing_an_account_share_its_bucket(redis_url, key):
    first = RedisBucket(redis.Redis.from_url(redis_url), key, RATE)
    second = RedisBucket(redis.Redis.from_url(redis_url), key, RATE)

    assert reservations(first, 2) + reservations(second, 2) == [0, 0, 1, 2]


def test_each_account_has_a_bucket_of_its_own(connection, key):
    first = RedisBucket(connection, key, RATE)
    other = RedisBucket(connection, key + "-other", RATE)
    reservations(first, 2)

    assert reservations(other, 2) == [0, 0]


def test_the_redis_bucket_refuses_a_turn_too_far_away(connection, key):
    bucket = RedisBucket(connection, key, RATE)
    reservations(bucket, 4)

    assert bucket.reserve(longest_wait=2) is None
    assert round(bucket.reserve(longest_wait=5), 1) == 3


def test_the_redis_bucket_slows_down_for_everyone(connection, key):
    first = RedisBucket(connection, key, RATE)
    second = RedisBucket(connection, key, RATE)
    reservations(first, 2)

    assert first.slow_down(SLOW_SECONDS) is True
    assert second.slow_down(SLOW_SECONDS) is False
    assert reservations(second, 2) == [2, 4]


def test_an_idle_accounts_key_expires(connection, key):
    RedisBucket(connection, key, RATE).reserve(longest_wait=60)

    assert 0 < connection.ttl(key) <= 3600


# The budget: Redis first, the process's own bucket when Redis is away


def test_without_redis_the_process_keeps_to_the_rate_and_warns_once(caplog, clock):
    rate = BudgetRate(per_second=1.0, burst=2.0)
    budget = RateBudget(
        RedisBucket(redis.Redis.from_url(UNREACHABLE_REDIS), "unused", rate),
        LocalBucket(rate, clock=clock),
        rate=rate,
        clock=clock,
    )

    with caplog.at_level(logging.WARNING, logger="zendesk.budget"):
        waits = reservations(budget, 4)

    assert waits == [0, 0, 1, 2]
    [warning] = caplog.records
    assert "out of reach" in warning.message
    assert "60.0 requests a minute" in warning.message


class SwitchedBucket:
    """A real Redis bucket that answers only while switched on."""

    def __init__(self, bucket: RedisBucket) -> None:
        self.bucket = bucket
        self.on = False

    def reserve(self, longest_wait: float) -> float | None:
        if not self.on:
            raise redis.ConnectionError("Connection refused")
        return self.bucket.reserve(longest_wait)


def test_the_shared_bucket_is_tried_again_after_a_while(connection, key, clock):
    shared = SwitchedBucket(RedisBucket(connection, key, RATE))
    budget = RateBudget(shared, LocalBucket(RATE, clock=clock), rate=RATE, clock=clock)
    budget.reserve(longest_wait=60)

    shared.on = True
    budget.reserve(longest_wait=60)
    assert not connection.exists(key)  # not asked again at once

    clock.now += REDIS_RETRY_SECONDS
    budget.reserve(longest_wait=60)
    assert connection.exists(key)


def test_a_low_remaining_allowance_slows_the_shared_bucket(connection, key, caplog):
    budget = RateBudget(
        RedisBucket(connection, key, RATE), LocalBucket(RATE), rate=RATE
    )
    reservations(budget, 2)

    budget.note_remaining(500, 700)  # plenty left: nothing changes
    assert reservations(budget, 1) == [1]

    with caplog.at_level(logging.INFO, logger="zendesk.budget"):
        budget.note_remaining(50, 700)
        budget.note_remaining(40, 700)

    # The turn after the next: the one owed is now paid for at half the rate.
    assert reservations(budget, 1) == [4]
    [record] = caplog.records  # said once, not for every low answer
    assert "50 of 700 requests left" in record.message


def test_one_budget_per_process_and_account():
    rate = BudgetRate.share_of(700, 80)
    url = f"https://test-{uuid.uuid4().hex}.zendesk.com"

    first = rate_budget(UNREACHABLE_REDIS, url, rate)

    assert rate_budget(UNREACHABLE_REDIS, url, rate) is first
    assert rate_budget(UNREACHABLE_REDIS, url + "/other", rate) is not first


# The client spends the budget


class RecordingBudget:
    """A budget that grants every turn after `wait` seconds and keeps notes."""

    def __init__(self, wait: float | None = 0.5) -> None:
        self.wait = wait
        self.reserved = 0
        self.reported: list[tuple[int, int]] = []

    def reserve(self, longest_wait: float) -> float | None:
        self.reserved += 1
        return self.wait

    def note_remaining(self, remaining: int, limit: int) -> None:
        self.reported.append((remaining, limit))


def client_with(budget, waits: list[float]) -> ZendeskClient:
    return ZendeskClient(
        "https://example.zendesk.com",
        email="agent@example.com",
        api_token="unused",
        backoff_seconds=0.01,
        rate_budget=budget,
        sleep=waits.append,
    )


@responses.activate
def test_every_request_and_every_retry_takes_a_turn_first():
    responses.get(f"{API}/tickets/1.json", status=503)
    responses.get(
        f"{API}/tickets/1.json",
        json={"ticket": {"id": 1}},
        headers={"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "42"},
    )
    budget, waits = RecordingBudget(), []

    client_with(budget, waits).get_ticket(1)

    assert budget.reserved == 2
    assert waits.count(0.5) == 2  # the budget's waits, besides the backoff
    assert budget.reported == [(42, 700)]


@responses.activate
def test_a_budget_with_no_room_fails_the_call_without_sending_it():
    budget, waits = RecordingBudget(wait=None), []

    with pytest.raises(ServerError, match="rate budget has no room"):
        client_with(budget, waits).get_ticket(1)

    assert len(responses.calls) == 0
