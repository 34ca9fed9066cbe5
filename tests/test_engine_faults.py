"""The engine when Zendesk misbehaves: the job goes on where it can, and
every ticket still ends with exactly one outcome."""

import pytest
from django.conf import settings

from jobs.models import Job, TicketResult
from jobs.services import job_run
from sandbox.faults import inject_fault
from sandbox.models import RequestLog
from tests.job_helpers import FakeTime, new_job, outcomes, run_engine
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.registry import get_tool
from zendesk import ServerError

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

Outcome = TicketResult.Outcome


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("agent", password="unused-pw-1")


def test_a_chunk_zendesk_keeps_refusing_fails_and_the_job_goes_on(user, sandbox_url):
    ticket_ids = make_tickets(250)
    job = new_job(user, make_view("Everything"))
    inject_fault("update_many", 503, times=settings.ZENDESK_MAX_RETRIES + 1)

    job = run_engine(job, fake_time=FakeTime())

    assert (job.total, job.processed) == (250, 250)
    assert (job.succeeded, job.failed) == (150, 100)
    assert outcomes(job) == {Outcome.UPDATED: 150, Outcome.FAILED: 100}
    failed = job.results.filter(outcome=Outcome.FAILED)
    assert all("Zendesk did not confirm the update" in r.error for r in failed)
    tagged = [tid for tid, tags in tags_of(ticket_ids).items() if "vip" in tags]
    assert len(tagged) == 150


def test_too_many_zendesk_jobs_waits_then_fails_the_chunk(user, sandbox_url, settings):
    make_tickets(30)
    job = new_job(user, make_view("Everything"))
    settings.SANDBOX_MAX_QUEUED_JOBS = 0  # every new Zendesk job is refused
    settings.ZENDESK_JOB_WAIT_SECONDS = 30
    fake_time = FakeTime()

    job = run_engine(job, fake_time=fake_time)

    assert fake_time.now >= 30
    assert (job.processed, job.failed, job.succeeded) == (30, 30, 0)
    error = job.results.first().error
    assert "kept refusing new jobs" in error


def test_the_limit_stops_collecting_without_an_extra_page(user, sandbox_url):
    make_tickets(350)
    view = make_view("Everything")
    job = new_job(user, view, limit=200)

    job = run_engine(job, fake_time=FakeTime())

    assert (job.total, job.succeeded) == (200, 200)
    pages = RequestLog.objects.filter(path__contains=f"/views/{view.pk}/tickets")
    assert pages.count() == 2


def test_tickets_already_tagged_cost_no_update_call(user, sandbox_url):
    make_tickets(150, tags=lambda n: ["vip"] if n < 120 else ["base"])
    job = new_job(user, make_view("Everything"))

    job = run_engine(job, fake_time=FakeTime())

    assert (job.total, job.unchanged, job.succeeded) == (150, 120, 30)
    updates = RequestLog.objects.filter(path__contains="update_many")
    assert updates.count() == 1


def test_refused_credentials_fail_the_job_with_a_clear_message(user, sandbox_url):
    make_tickets(10)
    job = new_job(user, make_view("Everything"))
    inject_fault("/views/", 401)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Zendesk refused the configured credentials" in job.error_message
    assert job.finished_at is not None


def test_an_unreadable_zendesk_job_is_settled_by_reading_the_tickets(
    user, sandbox_url, settings
):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0.3  # so that the engine polls
    make_tickets(40, status=lambda n: "closed" if n < 4 else "open")
    job = new_job(user, make_view("Everything"))
    inject_fault("job_statuses", 503, times=settings.ZENDESK_MAX_RETRIES + 1)

    job = run_engine(job, fake_time=None)

    assert (job.processed, job.succeeded, job.failed) == (40, 36, 4)
    failed = job.results.filter(outcome=Outcome.FAILED)
    assert all("status could not be read" in r.error for r in failed)
    shown = RequestLog.objects.filter(path__contains="tickets/show_many")
    assert shown.count() == 1


def test_when_neither_the_job_nor_the_tickets_can_be_read_the_chunk_fails(
    user, sandbox_url, settings
):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0.3
    make_tickets(20)
    job = new_job(user, make_view("Everything"))
    inject_fault("job_statuses", 503, times=settings.ZENDESK_MAX_RETRIES + 1)
    inject_fault("tickets/show_many", 503, times=settings.ZENDESK_MAX_RETRIES + 1)

    job = run_engine(job, fake_time=None)

    assert (job.processed, job.succeeded, job.failed) == (20, 0, 20)
    error = job.results.first().error
    assert "status could not be read" in error
    assert "reading the ticket failed too" in error


def test_a_job_stopped_by_refused_credentials_closes_every_open_ticket(
    user, sandbox_url
):
    make_tickets(250)
    job = new_job(user, make_view("Everything"))
    inject_fault("update_many", 401)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert (job.total, job.processed, job.failed) == (250, 250, 250)
    assert outcomes(job) == {Outcome.FAILED: 250}
    not_changed = job.results.filter(error__startswith="Not changed: the job stopped")
    assert not_changed.count() == 250


def test_an_update_whose_answer_was_lost_is_settled_by_reading_the_tickets(
    user, sandbox_url, settings
):
    ticket_ids = make_tickets(50)
    job = new_job(user, make_view("Everything"))
    # Zendesk queues every attempt but each answer is lost on the way back.
    attempts = settings.ZENDESK_MAX_RETRIES + 1
    inject_fault("update_many", 504, times=attempts, after_handling=True)

    job = run_engine(job, fake_time=FakeTime())

    assert (job.processed, job.succeeded, job.failed) == (50, 50, 0)
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())


def test_a_job_that_fails_while_collecting_keeps_counts_that_add_up(
    user, sandbox_url, monkeypatch
):
    make_tickets(500, tags=lambda n: ["vip"] if n % 2 else ["base"])
    job = new_job(user, make_view("Everything"))
    # Patched on the class: an attribute set on the shared tool instance
    # would outlive the test.
    tool_class = type(get_tool("tag-manager"))
    pages_then_failure = tool_class.iter_tickets

    def failing_after_300(self, client, params):
        for n, ticket in enumerate(pages_then_failure(self, client, params)):
            if n == 300:
                raise ServerError("the view stopped answering")
            yield ticket

    monkeypatch.setattr("jobs.engine.COLLECT_BATCH", 100)
    monkeypatch.setattr(tool_class, "iter_tickets", failing_after_300)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "the view stopped answering" in job.error_message
    assert job.total == 300
    assert (job.unchanged, job.failed, job.processed) == (150, 150, 300)
    assert outcomes(job) == {Outcome.UNCHANGED: 150, Outcome.FAILED: 150}


def test_a_slow_collection_shows_what_it_found_every_few_seconds(
    user, sandbox_url, monkeypatch
):
    make_tickets(20)
    job = new_job(user, make_view("Everything"))
    fake_time = FakeTime()
    tool_class = type(get_tool("tag-manager"))
    original_plan = tool_class.plan_ticket
    found_so_far = []

    def one_second_a_ticket(self, client, ticket, params):
        # As when each ticket costs a call (a macro's preview).
        fake_time.now += 1.0
        found_so_far.append(Job.objects.get(pk=job.pk).total)
        return original_plan(self, client, ticket, params)

    monkeypatch.setattr(tool_class, "plan_ticket", one_second_a_ticket)
    job = run_engine(job, fake_time=fake_time)

    assert job.total == 20
    # Stored about every two tickets, not only once the 1,000-batch filled.
    assert found_so_far[:6] == [0, 0, 2, 2, 4, 4]
