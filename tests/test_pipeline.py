"""Several Zendesk jobs in flight at once: faster, and still exact."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import TicketResult
from jobs.pipeline import Window
from sandbox.models import JobStatus, RequestLog
from tests.job_helpers import new_job, outcomes, run_engine
from tests.sandbox_data import make_tickets, make_view, tags_of

Outcome = TicketResult.Outcome

db = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("agent", password="unused-pw-1")


def most_jobs_in_flight_at_zendesk() -> int:
    """The most sandbox jobs that were unfinished at one moment: when each
    job was created, how many (itself included) had not yet completed."""
    spans = list(JobStatus.objects.values_list("created_at", "ready_at"))
    return max(
        sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans
    )


def calls(path_part: str, status_code: int | None = None) -> int:
    logged = RequestLog.objects.filter(path__contains=path_part)
    if status_code is not None:
        logged = logged.filter(status_code=status_code)
    return logged.count()


def test_the_window_keeps_to_its_limit_and_to_zendesks_room():
    window = Window(limit=5)
    assert window.room(in_flight=0) == 5
    assert window.room(in_flight=5) == 0

    window.saw_remaining(2)  # other runs hold most of the account's slots
    assert window.room(in_flight=3) == 2
    window.freed(1)
    assert window.room(in_flight=2) == 3

    window.saw_remaining(0)
    assert window.room(in_flight=0) == 1  # with nothing in flight, always try


@db
def test_several_jobs_stay_in_flight_and_every_ticket_is_counted_once(
    user, sandbox_url, settings
):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0.5
    settings.ZENDESK_MAX_JOBS_IN_FLIGHT = 5
    ticket_ids = make_tickets(1_500)

    job = run_engine(new_job(user, make_view("Everything")))

    # Several at once (one after another would be 1), never past the limit;
    # how many exactly depends on how fast this machine sends.
    assert 3 <= most_jobs_in_flight_at_zendesk() <= 5
    assert (job.total, job.processed, job.succeeded) == (1_500, 1_500, 1_500)
    assert outcomes(job) == {Outcome.UPDATED: 1_500}
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())
    assert calls("update_many") == 15
    # Several jobs are read in each poll.
    assert calls("job_statuses/show_many") < 15


@db
def test_zendesks_room_for_jobs_is_respected(user, sandbox_url, settings):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0.3
    settings.SANDBOX_MAX_QUEUED_JOBS = 3  # less than the run would use
    settings.ZENDESK_MAX_JOBS_IN_FLIGHT = 10
    make_tickets(1_000)

    job = run_engine(new_job(user, make_view("Everything")))

    assert job.succeeded == 1_000
    assert most_jobs_in_flight_at_zendesk() <= 3
    assert calls("update_many", status_code=429) <= 1


@db
def test_database_work_grows_with_chunks_not_tickets(user, sandbox_url):
    make_tickets(2_000)
    job = new_job(user, make_view("Everything"))

    with CaptureQueriesContext(connection) as queries:
        job = run_engine(job)

    assert job.succeeded == 2_000
    chunks = 20
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith(("UPDATE", "INSERT"))
    ]
    progress_writes = [sql for sql in writes if 'UPDATE "jobs_job"' in sql]
    assert len(queries.captured_queries) <= 12 * chunks
    # One a chunk, plus the claim and four while collecting.
    assert len(progress_writes) <= chunks + 6
