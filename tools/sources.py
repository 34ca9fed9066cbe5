"""Where a bulk tool's tickets come from: a Zendesk view, or a list of ticket
ids (the failed tickets of an earlier job, tried again)."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.cache import cache

from zendesk import TicketSummary, ZendeskClient
from zendesk.arguments import MAX_IDS_PER_CALL

logger = logging.getLogger(__name__)

# View counts cost a call each and Zendesk caches them for an hour anyway;
# two minutes keep the form fast without showing anything badly stale.
VIEWS_CACHE_SECONDS = 120
_CACHE_KEY = "tools:active-views"

# The status given to a listed ticket that Zendesk no longer has (deleted,
# archived or merged away since the list was made).
NOT_FOUND = "not found"

# A person is waiting for the page: fail within seconds rather than sit out
# a long rate-limit wait the way a background job may.
PAGE_CLIENT_OPTIONS = {
    "max_retries": 1,
    "rate_limit_wait_seconds": 5,
    "read_timeout": 15,
}


@dataclass(frozen=True)
class ViewChoice:
    id: int
    title: str
    count: int | None

    @property
    def label(self) -> str:
        count = "count pending" if self.count is None else f"{self.count:,} tickets"
        return f"{self.title} ({count})"


def load_active_views(client: ZendeskClient | None = None) -> list[ViewChoice]:
    """Active views with their (approximate, display-only) ticket counts."""
    cached = cache.get(_CACHE_KEY)
    if cached is not None:
        return cached

    client = client or ZendeskClient.from_settings(**PAGE_CLIENT_OPTIONS)
    views = [
        ViewChoice(
            id=view["id"], title=view["title"], count=client.count_view(view["id"])
        )
        for view in client.list_active_views()
    ]

    cache.set(_CACHE_KEY, views, VIEWS_CACHE_SECONDS)
    logger.info("Loaded %d active views from Zendesk", len(views))
    return views


def forget_active_views() -> None:
    cache.delete(_CACHE_KEY)


def iter_listed_tickets(
    client: ZendeskClient, ticket_ids: list[int]
) -> Iterator[TicketSummary]:
    """The listed tickets as Zendesk has them now, 100 a call.

    A ticket Zendesk no longer returns is still yielded, with no tags and
    the status "not found", so that the job records an outcome for it
    instead of silently dropping it: a run that sends it gets Zendesk's own
    per-ticket refusal, which says why."""
    for start in range(0, len(ticket_ids), MAX_IDS_PER_CALL):
        batch = ticket_ids[start : start + MAX_IDS_PER_CALL]
        found = {
            int(ticket["id"]): TicketSummary.from_api(ticket)
            for ticket in client.show_tickets(batch)
        }
        for ticket_id in batch:
            yield found.get(ticket_id) or _not_found(ticket_id)


def _not_found(ticket_id: int) -> TicketSummary:
    logger.info("Listed ticket %s is no longer in Zendesk", ticket_id)
    return TicketSummary(id=ticket_id, status=NOT_FOUND, tags=(), updated_at="")
