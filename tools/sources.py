"""Where a bulk tool's tickets come from, as a job's `params["source"]`:

- `{"type": "view", "id": 12, "title": "Open tickets"}`: a Zendesk view;
- `{"type": "search", "query": "status:open tags:vip"}`: a search query;
- `{"type": "tickets", "ids": [1, 2], "title": "a pasted list of 2 tickets"}`:
  a list of ids (pasted, uploaded, or the failed tickets of an earlier job).

Every bulk tool reads its tickets with `iter_source_tickets` and names them
with `describe_source`, so a new kind of source reaches all tools at once.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.cache import cache

from zendesk import TicketSummary, ZendeskClient
from zendesk.arguments import MAX_IDS_PER_CALL

logger = logging.getLogger(__name__)

VIEW_SOURCE = "view"
SEARCH_SOURCE = "search"
TICKETS_SOURCE = "tickets"

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


def view_source(view: ViewChoice) -> dict:
    return {"type": VIEW_SOURCE, "id": view.id, "title": view.title}


def search_source(query: str) -> dict:
    return {"type": SEARCH_SOURCE, "query": query}


def ticket_list_source(ticket_ids: list[int], title: str) -> dict:
    """`title` names the list for people, e.g. "a pasted list of 3 tickets"."""
    return {"type": TICKETS_SOURCE, "ids": ticket_ids, "title": title}


def iter_source_tickets(client: ZendeskClient, source: dict) -> Iterator[TicketSummary]:
    """The source's tickets as Zendesk has them now. A listed id Zendesk does
    not have comes out with the status NOT_FOUND (see iter_listed_tickets)."""
    kind = source["type"]
    if kind == VIEW_SOURCE:
        return client.iter_view_tickets(source["id"])
    if kind == SEARCH_SOURCE:
        return client.iter_search_tickets(source["query"])
    if kind == TICKETS_SOURCE:
        return iter_listed_tickets(client, [int(pk) for pk in source["ids"]])
    raise ValueError(f"Unknown ticket source {kind!r}")


def describe_source(source: dict) -> str:
    """The source in words, e.g. 'view “Open tickets”'."""
    kind = source["type"]
    if kind == VIEW_SOURCE:
        return f"view “{source['title']}”"
    if kind == SEARCH_SOURCE:
        return f"search “{source['query']}”"
    if kind == TICKETS_SOURCE:
        return source["title"]
    raise ValueError(f"Unknown ticket source {kind!r}")


def is_listed(source: dict) -> bool:
    """Whether the source names its tickets one by one, so that the run's
    limit is the list's length rather than a number the user chose."""
    return source["type"] == TICKETS_SOURCE
