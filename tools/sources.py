"""Where a bulk tool's tickets come from: for now, Zendesk views."""

import logging
from dataclasses import dataclass

from django.core.cache import cache

from zendesk import ZendeskClient

logger = logging.getLogger(__name__)

# View counts cost a call each and Zendesk caches them for an hour anyway;
# two minutes keep the form fast without showing anything badly stale.
VIEWS_CACHE_SECONDS = 120
_CACHE_KEY = "tools:active-views"

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
