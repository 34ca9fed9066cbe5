"""The htmx buttons that change things refuse a request without the CSRF
token, and work with the token their own page renders."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from jobs.models import Job, TicketResult
from tests.job_helpers import job_row as make_job
from tools.models import Tool

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def agent(make_user):
    return make_user("agent")


@pytest.fixture
def strict_client(agent) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    return client


def page_token(html: str) -> str:
    """The token the page hands htmx, in the hx-headers of <body>."""
    found = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", html)
    assert found, "the page carries no CSRF token for htmx"
    return found.group(1)


def button_target(html: str, button_id: str) -> str:
    found = re.search(rf'<button[^>]*id="{button_id}"[^>]*hx-post="([^"]+)"', html)
    assert found, f"no #{button_id} button with hx-post"
    return found.group(1)


def running_job(agent) -> Job:
    return make_job(
        agent,
        status=Job.Status.RUNNING,
        phase=Job.Phase.UPDATING,
        total=100,
        processed=10,
        started_at=timezone.now(),
    )


def test_the_cancel_button_needs_the_token_its_page_renders(strict_client, agent):
    job = running_job(agent)
    html = strict_client.get(job.get_absolute_url()).content.decode()
    url = button_target(html, "cancel-job")

    refused = strict_client.post(url, headers=HX)
    wrong = strict_client.post(url, headers={**HX, "X-CSRFToken": "x" * 64})
    job.refresh_from_db()
    assert (refused.status_code, wrong.status_code) == (403, 403)
    assert not job.cancel_requested

    accepted = strict_client.post(url, headers={**HX, "X-CSRFToken": page_token(html)})
    job.refresh_from_db()
    assert accepted.status_code == 200
    assert job.cancel_requested
    assert "stops before its next chunk" in accepted.content.decode()


def test_the_cancel_button_in_the_polled_fragment_works_with_the_pages_token(
    strict_client, agent
):
    job = make_job(agent, status=Job.Status.QUEUED)
    page = strict_client.get(job.get_absolute_url()).content.decode()
    fragment = strict_client.get(job.get_absolute_url(), headers=HX).content.decode()
    # The fragment replaces the one in the page; its button is the one clicked.
    url = button_target(fragment, "cancel-job")
    assert 'hx-trigger="every 2s"' in fragment

    assert strict_client.post(url, headers=HX).status_code == 403
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED

    token = page_token(page)
    answer = strict_client.post(url, headers={**HX, "X-CSRFToken": token})
    job.refresh_from_db()
    assert answer.status_code == 200
    assert job.status == Job.Status.CANCELLED
    assert "nothing was changed" in answer.content.decode()
    assert "hx-trigger" not in answer.content.decode()  # polling stops


def test_the_retry_button_needs_the_token_its_page_renders(
    strict_client, agent, rq_queue
):
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=0)
    job = make_job(
        agent, status=Job.Status.COMPLETED_WITH_ERRORS, total=2, processed=2, failed=1
    )
    TicketResult.objects.create(job=job, ticket_id=7, outcome="failed")
    TicketResult.objects.create(job=job, ticket_id=8, outcome="updated")
    html = strict_client.get(f"/jobs/{job.pk}/retry/").content.decode()
    url = button_target(html, "confirm-retry")

    assert strict_client.post(url, headers=HX).status_code == 403
    assert Job.objects.count() == 1

    answer = strict_client.post(url, headers={**HX, "X-CSRFToken": page_token(html)})
    retry = Job.objects.get(retry_of=job)
    assert answer.status_code == 200
    assert answer["HX-Redirect"] == retry.get_absolute_url()
    assert retry.params["source"]["ids"] == [7]
