"""The account's macros, as a page needs them: fetched whole, kept briefly."""

import logging

from django.conf import settings
from django.core.cache import cache

from jobs.ticket_links import uses_sandbox
from tools.sources import PAGE_CLIENT_OPTIONS
from zendesk import ZendeskClient

logger = logging.getLogger(__name__)

# An account has hundreds of macros at most, a few pages: one fetch serves
# every search for a minute, and an edit in Zendesk shows up soon after.
MACROS_CACHE_SECONDS = 60
_CACHE_KEY = "tools:macros"

# What a search reads and shows of a macro; the rest is not kept.
_KEPT_FIELDS = ("id", "title", "active", "actions")


def load_macros() -> list[dict]:
    """Every macro, active or not, in Zendesk's order. Raises ZendeskError."""
    cached = cache.get(_CACHE_KEY)
    if cached is not None:
        return cached

    with ZendeskClient.from_settings(**PAGE_CLIENT_OPTIONS) as client:
        macros = [
            {name: macro.get(name) for name in _KEPT_FIELDS}
            for macro in client.iter_macros()
        ]

    cache.set(_CACHE_KEY, macros, MACROS_CACHE_SECONDS)
    logger.info("Loaded %d macros from Zendesk", len(macros))
    return macros


def macro_url(macro_id: int) -> str | None:
    """The macro's page in Zendesk's Admin Center, or None with the sandbox,
    which has no pages for people (see jobs.ticket_links)."""
    if uses_sandbox():
        return None
    path = f"/admin/workspaces/agent-workspace/macros/{int(macro_id)}"
    return settings.ZENDESK_URL + path
