"""Retrying a job runs exactly the tickets that failed in it, against the
sandbox over real HTTP, in the request or on a real worker."""

import pytest

from jobs.models import Job, TicketResult
from jobs.services import JobRefused, job_create, job_enqueue, job_retry
from sandbox.models import Ticket
from tests.job_helpers import new_job, outcomes, run_engine
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.models import Tool
from tools.registry import get_tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

Outcome = TicketResult.Outcome


@pytest.fixture
def agent(make_user):
    return make_user("agent")


def failed_first_run(agent, run_worker) -> tuple[Job, list[int], list[int]]:
    """A finished job over 300 tickets, every tenth closed and so failed."""
    ticket_ids = make_tickets(300, status=lambda n: "closed" if n % 10 == 0 else "open")
    job = new_job(agent, make_view("Everything"))
    job_enqueue(job=job)
    run_worker()
    job.refresh_from_db()
    closed = ticket_ids[::10]
    return job, ticket_ids, closed


@pytest.mark.parametrize("where", ["inline", "worker"])
def test_a_retry_runs_exactly_the_failed_tickets(client, agent, run_worker, where):
    job, ticket_ids, closed = failed_first_run(agent, run_worker)
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert outcomes(job) == {Outcome.UPDATED: 270, Outcome.FAILED: 30}
    failed = set(
        job.results.filter(outcome=Outcome.FAILED).values_list("ticket_id", flat=True)
    )
    assert failed == set(closed)

    # Reopened, they can now be tagged; one is gone from Zendesk meanwhile.
    gone = closed[-1]
    Ticket.objects.filter(pk__in=closed).update(status="open")
    Ticket.objects.filter(pk=gone).delete()
    if where == "worker":
        Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=10)
    client.force_login(agent)

    page = client.get(f"/jobs/{job.pk}/retry/")
    assert page.context["listed_ids"] == closed
    response = client.post(f"/jobs/{job.pk}/retry/")
    retry = Job.objects.get(retry_of=job)
    assert response["Location"] == retry.get_absolute_url()
    if where == "worker":
        assert retry.status == Job.Status.QUEUED
        run_worker()
    retry.refresh_from_db()

    retried = set(retry.results.values_list("ticket_id", flat=True))
    assert retried == failed
    assert retry.status == Job.Status.COMPLETED_WITH_ERRORS
    assert outcomes(retry) == {Outcome.UPDATED: 29, Outcome.FAILED: 1}
    missing = retry.results.get(ticket_id=gone)
    assert missing.ticket_status == "not found"
    assert "not found" in missing.error.lower()
    tags = tags_of(ticket_ids)
    assert all("vip" in tags[pk] for pk in ticket_ids if pk != gone)
    detail = client.get(retry.get_absolute_url()).content.decode()
    assert (
        f'Retries the failed tickets of <a href="/jobs/{job.pk}/">job {job.pk}</a>'
        in detail
    )
    assert f"Add tag vip (retry of job {job.pk}: 30 failed tickets)" in detail


def test_a_retry_of_a_retry_takes_only_what_failed_again(agent, run_worker):
    job, _, closed = failed_first_run(agent, run_worker)
    Ticket.objects.filter(pk__in=closed[:10]).update(status="open")
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=0)

    first = job_retry(job=job, user=agent)
    run_worker()
    first.refresh_from_db()
    second = job_retry(job=first, user=agent)

    assert outcomes(first) == {Outcome.UPDATED: 10, Outcome.FAILED: 20}
    assert second.params["source"]["ids"] == closed[10:]
    assert second.retry_of == first


def test_a_second_retry_waits_for_the_first_to_end(agent, run_worker):
    job, _, closed = failed_first_run(agent, run_worker)
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=0)
    first = job_retry(job=job, user=agent)

    with pytest.raises(JobRefused, match=f"Job {first.pk} is already retrying"):
        job_retry(job=job, user=agent)
    run_worker()
    first.refresh_from_db()
    again = job_retry(job=job, user=agent)

    assert first.is_finished
    assert again.retry_of == job
    assert again.params["source"]["ids"] == closed


def test_a_job_without_failures_is_not_retried(agent, run_worker):
    make_tickets(20)
    job = new_job(agent, make_view("Everything"))
    job_enqueue(job=job)
    run_worker()
    job.refresh_from_db()

    with pytest.raises(JobRefused, match=f"Job {job.pk} has no failed tickets"):
        job_retry(job=job, user=agent)
    assert Job.objects.count() == 1


def test_a_listed_ticket_zendesk_no_longer_has_fails_as_not_found(agent, sandbox_url):
    kept, deleted = make_tickets(2, tags=lambda n: ["vip"])
    Ticket.objects.filter(pk=deleted).delete()
    params = {
        "source": {"type": "tickets", "ids": [kept, deleted], "title": "two"},
        "operation": "remove",
        "tags": ["vip"],
        "limit": 10,
        "dry_run": False,
    }
    job = job_create(tool=get_tool("tag-manager"), user=agent, params=params)

    job = run_engine(job)

    assert (job.succeeded, job.failed, job.unchanged) == (1, 1, 0)
    missing = job.results.get(ticket_id=deleted)
    assert missing.outcome == Outcome.FAILED
    assert missing.error.startswith("Not found in Zendesk")
