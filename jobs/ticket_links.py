"""Where a person can look at a ticket of a job."""

from urllib.parse import urlsplit

from django.conf import settings


def uses_sandbox() -> bool:
    """Whether the configured Zendesk is the sandbox this app serves."""
    path = urlsplit(settings.ZENDESK_URL).path.rstrip("/")
    return settings.SANDBOX_ENABLED and path.endswith("/sandbox")


def ticket_url(ticket_id: int) -> str | None:
    """The ticket's page in Zendesk's agent interface, or None with the
    sandbox.

    The sandbox plays only Zendesk's API: it has no agent pages, and its
    ticket JSON answers only requests carrying the Zendesk credentials, which
    a browser must never hold. A link there would always answer 401, so
    with the sandbox the ticket id is shown without a link."""
    if uses_sandbox():
        return None
    return f"{settings.ZENDESK_URL}/agent/tickets/{int(ticket_id)}"
