"""The floor: the least time a tagging run can take, set by the share of the
rate limit the product may use and by Zendesk's job processing time alone.
bench/README.md explains the formula."""

import math
from dataclasses import dataclass

PAGE_SIZE = 100  # tickets per view page
CHUNK_SIZE = 100  # tickets per update_many
STATUSES_PER_POLL = 100  # job statuses per show_many
ZENDESK_MAX_JOBS_IN_FLIGHT = 30
BURST_SECONDS = 2.0  # the product's bucket lets two seconds' worth go at once


@dataclass(frozen=True)
class Floor:
    pages: int
    updates: int
    polls: int
    seconds: float

    @property
    def calls(self) -> int:
        return self.pages + self.updates + self.polls


def budget_rate(limit_per_minute: int, budget_percent: float) -> tuple[float, float]:
    """The product's requests a second, and how many may go at once."""
    rate = limit_per_minute * budget_percent / 100 / 60
    return rate, max(1.0, rate * BURST_SECONDS)


def calls_floor(calls: int, *, limit_per_minute: int, budget_percent: float) -> float:
    """The least time `calls` calls take at the product's share of the limit."""
    rate, burst = budget_rate(limit_per_minute, budget_percent)
    return max(0.0, calls - burst) / rate


def floor_for(
    tickets: int, *, limit_per_minute: int, budget_percent: float, latency: float
) -> Floor:
    """The floor for tagging `tickets` tickets that all need the change."""
    pages = max(1, math.ceil(tickets / PAGE_SIZE))
    updates = math.ceil(tickets / CHUNK_SIZE)
    polls = math.ceil(updates / STATUSES_PER_POLL)

    rate, burst = budget_rate(limit_per_minute, budget_percent)
    # With more than 30 jobs' worth of calls per job latency, Zendesk's job
    # queue, not the rate limit, sets the pace of updates.
    update_rate = (
        rate if latency <= 0 else min(rate, ZENDESK_MAX_JOBS_IN_FLIGHT / latency)
    )

    calls_time = pages / rate + updates / update_rate + polls / rate
    seconds = max(0.0, calls_time - burst / rate) + latency
    return Floor(pages=pages, updates=updates, polls=polls, seconds=seconds)
