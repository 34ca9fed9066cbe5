"""The window of update_many jobs a run keeps in flight at once.

Zendesk works on several bulk jobs of an account at a time (up to 30 queued
or running). Sending one chunk and waiting for its job before the next would
leave the run bound by Zendesk's job latency; keeping several in flight
leaves it bound by the rate limit, which is the floor.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class SentChunk:
    """A chunk Zendesk accepted, waiting for its job to end."""

    zendesk_job_id: str
    ticket_ids: list[int]
    sent_at: float
    # Sent by an earlier run: if Zendesk no longer knows its job, the tickets
    # that do not show the change yet are sent again (rather than failed).
    resend_if_vanished: bool = False


class ChunkQueue:
    """Chunks still to send: first any put back, then the rest in order."""

    def __init__(self, chunks: Iterator[list[int]]) -> None:
        self._chunks = chunks
        self._put_back: deque[list[int]] = deque()

    def next(self) -> list[int] | None:
        if self._put_back:
            return self._put_back.popleft()
        return next(self._chunks, None)

    def put_back(self, ticket_ids: list[int]) -> None:
        self._put_back.appendleft(ticket_ids)


class Window:
    """How many Zendesk jobs this run may have in flight.

    At most `limit`, and no more than Zendesk's `zendesk-ratelimit-inflight-
    jobs` header left room for when it was last seen (other runs and other
    integrations use the same 30 slots), plus the slots this run has freed
    since. Never less than one: a run with nothing in flight may always try,
    and waits if Zendesk refuses.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._remaining_seen: int | None = None
        self._freed_since_seen = 0

    def saw_remaining(self, remaining: int | None) -> None:
        if remaining is not None:
            self._remaining_seen = remaining
            self._freed_since_seen = 0

    def freed(self, count: int) -> None:
        self._freed_since_seen += count

    def room(self, in_flight: int) -> int:
        """How many more chunks may be sent now."""
        allowed = self.limit
        if self._remaining_seen is not None:
            free = self._remaining_seen + self._freed_since_seen
            allowed = min(allowed, in_flight + free)
        return max(allowed, 1) - in_flight
