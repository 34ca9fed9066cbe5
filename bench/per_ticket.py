"""The usual script, for comparison: list the view, then one tags call per
ticket (PUT tickets/{id}/tags.json), keeping to the same share of the rate
limit as the product through the same shared budget."""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from django.conf import settings

from bench.tagging import view_of_all_tickets
from bench.world import BenchError
from zendesk import ZendeskClient
from zendesk.budget import BudgetRate, rate_budget

logger = logging.getLogger(__name__)

LONGEST_BUDGET_WAIT = 60.0
MAX_THROTTLED_RETRIES = 5


@dataclass
class PerTicketFigures:
    tickets: int
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)  # by HTTP status
    calls: int = 0  # every call the sandbox logged, listing included


def run_per_ticket(tickets: int, tag: str, rate: BudgetRate) -> PerTicketFigures:
    budget = rate_budget(settings.REDIS_URL, settings.ZENDESK_URL, rate)
    client = ZendeskClient.from_settings(rate_budget=budget)
    figures = PerTicketFigures(tickets=tickets)
    started = time.monotonic()

    view = view_of_all_tickets()
    ticket_ids = [ticket.id for ticket in client.iter_view_tickets(view.pk)]
    if len(ticket_ids) != tickets:
        raise BenchError(f"The view holds {len(ticket_ids)} tickets, not {tickets}")

    with requests.Session() as session:
        session.auth = (f"{settings.ZENDESK_EMAIL}/token", settings.ZENDESK_API_TOKEN)
        for ticket_id in ticket_ids:
            status = _add_tag(session, budget, ticket_id, tag)
            figures.statuses[status] += 1

    figures.seconds = time.monotonic() - started
    return figures


def _add_tag(session, budget, ticket_id: int, tag: str) -> int:
    url = f"{settings.ZENDESK_URL}/api/v2/tickets/{ticket_id}/tags.json"
    for _ in range(MAX_THROTTLED_RETRIES + 1):
        _wait_for_budget(budget)
        response = session.put(url, json={"tags": [tag]}, timeout=30)
        if response.status_code != 429:
            return response.status_code
        time.sleep(float(response.headers.get("Retry-After", "1")))
    raise BenchError(f"Ticket {ticket_id} stayed throttled")


def _wait_for_budget(budget) -> None:
    wait = budget.reserve(LONGEST_BUDGET_WAIT)
    if wait is None:
        raise BenchError("The rate budget had no room within a minute")
    time.sleep(wait)
