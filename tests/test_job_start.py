"""Where a job runs, and what happens when it cannot be queued."""

import pytest
from django.urls import reverse

from jobs.models import Job
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.models import Tool
from tools.sources import load_active_views

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

FORM_URL = reverse("tools:form", args=["tag-manager"])


def form_data(view, limit: int = 1000) -> dict:
    return {"view": view.pk, "operation": "add", "tags": "vip", "limit": str(limit)}


@pytest.mark.parametrize(("limit", "expected_total"), [(1000, 120), (51, 51)])
def test_an_inline_run_bigger_than_its_stale_count_goes_to_a_worker(
    agent_client, sandbox_url, rq_queue, run_worker, limit, expected_total
):
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=50)
    view = make_view("Everything")
    ticket_ids = make_tickets(10)
    assert load_active_views()[0].count == 10  # cached, as Zendesk's would be
    ticket_ids += make_tickets(110)

    agent_client.post(FORM_URL, form_data(view, limit))

    job = Job.objects.get()
    assert job.status == Job.Status.QUEUED
    assert job.results.count() == 0
    assert rq_queue.job_ids == [job.rq_job_id]
    assert all("vip" not in tags for tags in tags_of(ticket_ids).values())

    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.total, job.succeeded) == (expected_total, expected_total)


def test_when_redis_is_down_the_job_fails_at_once_with_a_message(
    agent_client, sandbox_url, settings
):
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:9/0"}}
    view = make_view("Everything")
    make_tickets(600)

    response = agent_client.post(FORM_URL, form_data(view))

    job = Job.objects.get()
    assert response.status_code == 302
    assert job.status == Job.Status.FAILED
    assert "job queue (Redis) could not be reached" in job.error_message
    page = agent_client.get(job.get_absolute_url()).content.decode()
    assert "could not be reached" in page
