"""A request budget shared by every process that talks to one Zendesk account.

Zendesk counts requests per account, and agents working in Zendesk spend the
same allowance. Every worker, and the web process too, takes a token from one
bucket in Redis before each request, so that together they stay within the
product's share of the account's rate, however many of them run.

The bucket hands out reservations: a caller takes the next free slot at once
and is told how long to sleep before using it. Callers are served in the
order they asked and nobody polls Redis in a loop; the wait is the number of
callers ahead divided by the rate.
"""

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import redis

logger = logging.getLogger(__name__)

# A couple of seconds' worth of requests may go out at once after a quiet
# spell. A whole minute's worth could meet the next minute's and pass the
# account's limit in one 60 s window.
BURST_SECONDS = 2.0

# When Zendesk says fewer than this share of the account's requests are left,
# someone else (agents, another integration) is busy too: the product gives
# way by running at SLOW_FACTOR of its rate for SLOW_SECONDS.
LOW_REMAINING_SHARE = 0.15
SLOW_FACTOR = 0.5
SLOW_SECONDS = 10.0

# After Redis failed, the per-process bucket is used for this long before
# Redis is tried again.
REDIS_RETRY_SECONDS = 30.0

Clock = Callable[[], float]
T = TypeVar("T")


@dataclass(frozen=True)
class BudgetRate:
    per_second: float
    burst: float

    @classmethod
    def share_of(cls, limit_per_minute: int, percent: float) -> "BudgetRate":
        """`percent` of an account limit of `limit_per_minute` requests."""
        if limit_per_minute <= 0:
            raise ValueError("The rate limit must be above 0")
        if not 0 < percent <= 100:
            raise ValueError("The budget must be above 0 and at most 100 percent")

        per_second = limit_per_minute * percent / 100 / 60
        return cls(per_second=per_second, burst=max(1.0, per_second * BURST_SECONDS))

    @property
    def per_minute(self) -> float:
        return self.per_second * 60


class Bucket(Protocol):
    def reserve(self, longest_wait: float) -> float | None:
        """Seconds to wait before the next request, or None (and nothing
        reserved) when that would be longer than `longest_wait`."""

    def slow_down(self, seconds: float) -> bool:
        """Run at SLOW_FACTOR of the rate for `seconds`; True if the bucket
        was running at full rate until now."""


class LocalBucket:
    """The bucket for one process: the fallback when Redis is unreachable."""

    def __init__(self, rate: BudgetRate, *, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = rate.burst
        self._stamp = clock()
        self._slow_until = -math.inf

    def reserve(self, longest_wait: float) -> float | None:
        with self._lock:
            now = self._clock()
            per_second = self._current_rate(now)
            elapsed = max(0.0, now - self._stamp)
            tokens = min(self.rate.burst, self._tokens + elapsed * per_second)
            wait = max(0.0, (1 - tokens) / per_second)
            if wait > longest_wait:
                return None

            self._tokens, self._stamp = tokens - 1, now
            return wait

    def slow_down(self, seconds: float) -> bool:
        with self._lock:
            now = self._clock()
            was_full_rate = self._slow_until <= now
            self._slow_until = max(self._slow_until, now + seconds)
            return was_full_rate

    def _current_rate(self, now: float) -> float:
        slow = now < self._slow_until
        return self.rate.per_second * (SLOW_FACTOR if slow else 1.0)


# The same arithmetic as LocalBucket, on a hash in Redis. The clock is Redis's
# own, so that processes on machines whose clocks disagree still share it.
_RESERVE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local slow_factor = tonumber(ARGV[3])
local longest_wait = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp', 'slow_until')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
if now < (tonumber(state[3]) or 0) then
    rate = rate * slow_factor
end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = math.max(0, (1 - tokens) / rate)
if wait > longest_wait then
    return {0, tostring(wait)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, tostring(wait)}
"""

_SLOW_DOWN = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local slow_until = tonumber(redis.call('HGET', KEYS[1], 'slow_until')) or 0
local wanted = now + tonumber(ARGV[1])
if wanted > slow_until then
    redis.call('HSET', KEYS[1], 'slow_until', tostring(wanted))
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if slow_until > now then
    return 0
end
return 1
"""


class RedisBucket:
    """One bucket per Zendesk account, kept in Redis and changed atomically."""

    def __init__(self, connection: redis.Redis, key: str, rate: BudgetRate) -> None:
        self.rate = rate
        self.key = key
        self._reserve = connection.register_script(_RESERVE)
        self._slow_down = connection.register_script(_SLOW_DOWN)

    def reserve(self, longest_wait: float) -> float | None:
        args = [
            self.rate.per_second,
            self.rate.burst,
            SLOW_FACTOR,
            longest_wait,
            self._lifetime(longest_wait),
        ]
        reserved, wait = self._reserve(keys=[self.key], args=args)
        return float(wait) if int(reserved) else None

    def slow_down(self, seconds: float) -> bool:
        args = [seconds, self._lifetime(seconds)]
        return bool(self._slow_down(keys=[self.key], args=args))

    def _lifetime(self, longest_wait: float) -> int:
        # Long enough that a refilled bucket or a pending slow-down is never
        # forgotten early; an idle account's key then goes away by itself.
        refill = self.rate.burst / self.rate.per_second
        return math.ceil(refill + longest_wait + SLOW_SECONDS + 60)


class RateBudget:
    """What the Zendesk client asks before every request.

    Uses the shared bucket in Redis; while Redis cannot be reached, a bucket
    of the same rate in this process, so that a job slows down rather than
    stops.
    """

    def __init__(
        self,
        shared: Bucket,
        fallback: Bucket,
        *,
        rate: BudgetRate,
        clock: Clock = time.monotonic,
    ) -> None:
        self.rate = rate
        self._shared = shared
        self._fallback = fallback
        self._clock = clock
        self._shared_down_until: float | None = None
        self._warned = False

    def reserve(self, longest_wait: float) -> float | None:
        """Seconds to sleep before the next request, or None when the budget
        has no room within `longest_wait`."""
        return self._call(lambda bucket: bucket.reserve(longest_wait))

    def note_remaining(self, remaining: int, limit: int) -> None:
        """Give way when Zendesk reports the account's allowance running low."""
        if limit <= 0 or remaining >= limit * LOW_REMAINING_SHARE:
            return

        if self._call(lambda bucket: bucket.slow_down(SLOW_SECONDS)):
            logger.info(
                "Zendesk reports %d of %d requests left this minute; running at "
                "%.1f a minute instead of %.1f for %.0f s",
                remaining,
                limit,
                self.rate.per_minute * SLOW_FACTOR,
                self.rate.per_minute,
                SLOW_SECONDS,
            )

    def _call(self, action: Callable[[Bucket], T]) -> T:
        if self._shared_is_resting():
            return action(self._fallback)

        try:
            result = action(self._shared)
        except redis.RedisError as error:
            self._rest_shared(error)
            return action(self._fallback)

        if self._shared_down_until is not None:
            logger.info("Redis is back; the rate budget is shared again")
            self._shared_down_until = None
        return result

    def _shared_is_resting(self) -> bool:
        down_until = self._shared_down_until
        return down_until is not None and self._clock() < down_until

    def _rest_shared(self, error: redis.RedisError) -> None:
        self._shared_down_until = self._clock() + REDIS_RETRY_SECONDS
        if self._warned:
            return

        self._warned = True
        logger.warning(
            "The shared rate budget is out of reach (%s: %s); this process "
            "keeps to %.1f requests a minute on its own until Redis answers",
            type(error).__name__,
            error,
            self.rate.per_minute,
        )


def bucket_key(account_url: str) -> str:
    """The Redis key of an account's bucket: one per Zendesk account."""
    return f"tagmanager:zendesk-rate-budget:{account_url.rstrip('/').lower()}"


@functools.cache
def rate_budget(redis_url: str, account_url: str, rate: BudgetRate) -> RateBudget:
    """The budget for one account, shared through the Redis at `redis_url`.

    One object per process and account, so that every client in the process
    shares the fallback bucket too, and its warning is given once.
    """
    local = LocalBucket(rate)
    try:
        # Short timeouts: a Redis that hangs must not hang every Zendesk call.
        connection = redis.Redis.from_url(
            redis_url, socket_connect_timeout=2, socket_timeout=2
        )
    except ValueError as error:
        logger.warning(
            "The rate budget cannot use Redis (%s); this process keeps to %.1f "
            "requests a minute on its own",
            error,
            rate.per_minute,
        )
        return RateBudget(local, local, rate=rate)

    shared = RedisBucket(connection, bucket_key(account_url), rate)
    return RateBudget(shared, local, rate=rate)
