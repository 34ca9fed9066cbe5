"""The sandbox's limit on jobs in flight, under requests that arrive together."""

import threading

import pytest
import requests

from sandbox.models import JobStatus
from tests.sandbox_data import make_tickets

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

RACERS = 8
LIMIT = 3


def test_requests_racing_for_the_last_job_slots_never_exceed_the_limit(
    sandbox_url, settings
):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 60
    settings.SANDBOX_MAX_QUEUED_JOBS = LIMIT
    ticket_ids = make_tickets(50)
    auth = (f"{settings.ZENDESK_EMAIL}/token", settings.ZENDESK_API_TOKEN)
    ready = threading.Barrier(RACERS)
    statuses: list[int | str] = []

    def send_together() -> None:
        ready.wait(timeout=30)
        try:
            statuses.append(_update_many(sandbox_url, ticket_ids, auth).status_code)
        except requests.RequestException as error:
            statuses.append(repr(error))

    racers = [threading.Thread(target=send_together) for _ in range(RACERS)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)

    assert sorted(statuses, key=str) == [200] * LIMIT + [429] * (RACERS - LIMIT)
    assert JobStatus.objects.count() == LIMIT


def _update_many(
    sandbox_url: str, ticket_ids: list[int], auth: tuple[str, str]
) -> requests.Response:
    ids = ",".join(str(pk) for pk in ticket_ids)
    return requests.put(
        f"{sandbox_url}/api/v2/tickets/update_many.json?ids={ids}",
        json={"ticket": {"additional_tags": ["raced"]}},
        auth=auth,
        timeout=60,
    )
