"""The whole path: a job row, Redis, a real worker process, real HTTP to the
sandbox, and the sandbox's own tables checked afterwards."""

import pytest

from jobs.models import Job, TicketResult
from jobs.services import job_start
from sandbox.models import RequestLog
from tests.sandbox_data import lacks_tag, make_tickets, make_view, tags_of
from tools.registry import get_tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

CLOSED_EVERY = 50


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("agent", password="unused-pw-1")


def start_background_job(user, view, operation: str, tags: list[str]) -> Job:
    params = {
        "source": {"type": "view", "id": view.pk, "title": view.title},
        "operation": operation,
        "tags": tags,
        "limit": 10_000,
        "dry_run": False,
    }
    tool = get_tool("tag-manager")
    return job_start(tool=tool, user=user, params=params, expected_tickets=10_000)


def closed_now_and_then(n: int) -> str:
    return "closed" if n % CLOSED_EVERY == 0 else "open"


def test_adding_a_tag_to_a_thousand_tickets(user, run_worker):
    ticket_ids = make_tickets(
        1_000, tags=lambda n: ["base", f"group{n % 3}"], status=closed_now_and_then
    )
    view = make_view("Everything")

    job = start_background_job(user, view, "add", ["vip"])
    assert job.status == Job.Status.QUEUED
    run_worker()

    job.refresh_from_db()
    closed = {ticket_ids[n] for n in range(0, 1_000, CLOSED_EVERY)}
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert (job.total, job.processed) == (1_000, 1_000)
    assert (job.succeeded, job.failed, job.unchanged) == (1_000 - len(closed), 20, 0)

    tags = tags_of(ticket_ids)
    for n, ticket_id in enumerate(ticket_ids):
        expected = ["base", f"group{n % 3}"]
        if ticket_id not in closed:
            expected.append("vip")
        assert tags[ticket_id] == expected

    failures = job.results.filter(outcome=TicketResult.Outcome.FAILED)
    assert set(failures.values_list("ticket_id", flat=True)) == closed
    assert all("closed prevents ticket update" in r.error for r in failures)


def test_removing_a_tag_leaves_other_tags_alone(user, run_worker):
    def tags(n: int) -> list[str]:
        return ["keep", "old"] if n % 2 else ["keep"]

    ticket_ids = make_tickets(1_000, tags=tags)
    view = make_view("Everything")

    job = start_background_job(user, view, "remove", ["old"])
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.total, job.processed) == (1_000, 1_000)
    assert (job.succeeded, job.unchanged, job.failed) == (500, 500, 0)
    assert job.succeeded + job.unchanged + job.failed == job.total
    assert all(tags == ["keep"] for tags in tags_of(ticket_ids).values())


def test_a_view_that_empties_as_it_is_tagged_loses_no_ticket(user, run_worker):
    """The view holds tickets without the tag; tagging them drains it."""
    ticket_ids = make_tickets(
        1_000, tags=lambda n: ["reviewed"] if n % 10 == 0 else ["fresh"]
    )
    view = make_view("Not reviewed yet", all_conditions=[lacks_tag("reviewed")])

    job = start_background_job(user, view, "add", ["reviewed"])
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.total, job.succeeded) == (900, 900)
    assert all("reviewed" in tags for tags in tags_of(ticket_ids).values())

    # Every page of the view was read before the first change was sent.
    calls = list(RequestLog.objects.order_by("id").values_list("path", flat=True))
    pages = [n for n, path in enumerate(calls) if "/tickets.json" in path]
    updates = [n for n, path in enumerate(calls) if "update_many" in path]
    assert len(pages) == 9
    assert max(pages) < min(updates)
