"""Tag Manager jobs against the sandbox's fault modes, over real HTTP: each
job ends in the right state, every ticket with exactly one outcome, and what
the job says matches the sandbox's own tickets."""

import time

import pytest
from django.utils import timezone

from jobs import services
from jobs.claims import claim_job
from jobs.engine import JobEngine
from jobs.models import Job, TicketResult
from jobs.services import job_create, job_start
from sandbox.bulk import FAILED_JOB_MESSAGE
from sandbox.fault_modes import current_modes
from sandbox.models import FaultModes, JobStatus, RequestLog
from tests.job_helpers import FakeTime, tag_params
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.registry import get_tool
from zendesk import ZendeskClient

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

Outcome = TicketResult.Outcome
CHUNK = 100


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("agent", password="unused-pw-1")


def start_on_worker(user, view) -> Job:
    tool = get_tool("tag-manager")
    job = job_start(
        tool=tool, user=user, params=tag_params(view), expected_tickets=10_000
    )
    assert job.status == Job.Status.QUEUED
    return job


def engine_for(user, view, fake_time: FakeTime, **client_options) -> JobEngine:
    """An engine in this process, with the client's and the engine's sleeps
    going to `fake_time` (the calls themselves go over real HTTP)."""
    job = job_create(tool=get_tool("tag-manager"), user=user, params=tag_params(view))
    client = ZendeskClient.from_settings(sleep=fake_time.sleep, **client_options)
    return JobEngine(
        job,
        get_tool("tag-manager"),
        client,
        claim=claim_job(job.pk),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


def finished(engine: JobEngine) -> Job:
    engine.job.refresh_from_db()
    return engine.job


def outcomes_by_ticket(job: Job) -> dict[int, tuple[str, str]]:
    rows = job.results.values_list("ticket_id", "outcome", "error")
    return {ticket_id: (outcome, error) for ticket_id, outcome, error in rows}


def tickets_with(job: Job, outcome: str) -> set[int]:
    return set(job.results.filter(outcome=outcome).values_list("ticket_id", flat=True))


def tagged(ticket_ids: list[int]) -> set[int]:
    return {pk for pk, tags in tags_of(ticket_ids).items() if "vip" in tags}


def assert_every_ticket_settled(job: Job, ticket_ids: list[int]) -> None:
    """One final outcome per ticket, counters that match the rows, and the
    sandbox agreeing: updated tickets carry the tag, failed ones do not."""
    outcomes = outcomes_by_ticket(job)
    assert sorted(outcomes) == sorted(ticket_ids)
    assert job.results.count() == len(ticket_ids)
    assert not tickets_with(job, Outcome.PENDING)
    updated = tickets_with(job, Outcome.UPDATED)
    failed = tickets_with(job, Outcome.FAILED)
    assert (job.total, job.processed) == (len(ticket_ids), len(ticket_ids))
    assert (job.succeeded, job.failed) == (len(updated), len(failed))
    assert updated | failed == set(ticket_ids)
    assert all(outcomes[pk][1] for pk in failed), "a failure without a reason"
    assert tagged(ticket_ids) == updated


def chunks_of(ticket_ids: list[int]) -> list[list[int]]:
    return [ticket_ids[n : n + CHUNK] for n in range(0, len(ticket_ids), CHUNK)]


def logged(path_part: str, *statuses: int) -> int:
    calls = RequestLog.objects.filter(path__contains=path_part)
    if statuses:
        calls = calls.filter(status_code__in=statuses)
    return calls.count()


# Tickets failing inside Zendesk's jobs


def test_tickets_failing_inside_jobs_fail_alone_with_zendesks_error(
    user, run_worker, settings
):
    settings.SANDBOX_FAULT_TICKET_FAIL_RATE = 0.1
    settings.SANDBOX_FAULT_SEED = 4
    ticket_ids = make_tickets(300)
    modes = current_modes(timezone.now())
    doomed = {pk for pk in ticket_ids if modes.ticket_fails(pk)}
    assert 0 < len(doomed) < 300

    job = start_on_worker(user, make_view("Everything"))
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert_every_ticket_settled(job, ticket_ids)
    assert tickets_with(job, Outcome.FAILED) == doomed
    errors = set(job.results.filter(outcome=Outcome.FAILED).values_list("error"))
    assert errors == {
        ("UpdateConflict: The ticket changed after the job was queued (safe update)",)
    }


# Zendesk job statuses that fail, stay queued or vanish


def test_failed_zendesk_jobs_fail_their_tickets_with_zendesks_message(
    user, run_worker, settings
):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0.2  # so that the engine polls
    settings.SANDBOX_FAULT_JOB_FAIL_RATE = 0.5
    settings.SANDBOX_FAULT_SEED = 2
    ticket_ids = make_tickets(400)
    modes = current_modes(timezone.now())
    failing = [modes.job_fate(n) == JobStatus.Fate.FAILED for n in range(1, 5)]
    assert failing == [False, True, False, True]

    job = start_on_worker(user, make_view("Everything"))
    run_worker()

    job.refresh_from_db()
    chunks = chunks_of(ticket_ids)
    doomed = set(chunks[1] + chunks[3])
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert_every_ticket_settled(job, ticket_ids)
    assert tickets_with(job, Outcome.FAILED) == doomed
    assert job.succeeded == 200
    failed = job.results.filter(outcome=Outcome.FAILED)
    assert all(f"ended failed: {FAILED_JOB_MESSAGE}" in r.error for r in failed)
    # Each failed chunk was checked against the tickets themselves.
    assert logged("tickets/show_many") == 2


def test_zendesk_jobs_that_stay_queued_fail_after_the_configured_wait(
    user, run_worker, settings, monkeypatch
):
    monkeypatch.setenv("ZENDESK_JOB_WAIT_SECONDS", "1")
    settings.SANDBOX_FAULT_JOB_STUCK_RATE = 0.5
    settings.SANDBOX_FAULT_SEED = 1
    ticket_ids = make_tickets(300)
    modes = current_modes(timezone.now())
    stuck = [modes.job_fate(n) == JobStatus.Fate.STUCK for n in range(1, 4)]
    assert stuck == [True, False, False]

    job = start_on_worker(user, make_view("Everything"))
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert_every_ticket_settled(job, ticket_ids)
    assert tickets_with(job, Outcome.FAILED) == set(chunks_of(ticket_ids)[0])
    failed = job.results.filter(outcome=Outcome.FAILED)
    assert all("did not finish within 1 s" in r.error for r in failed)


def test_an_inline_run_gives_up_on_a_stuck_job_sooner_than_a_worker(
    user, sandbox_url, settings, monkeypatch
):
    # A web request must not wait the worker's ten minutes.
    monkeypatch.setattr(services, "INLINE_JOB_WAIT_SECONDS", 1)
    settings.ZENDESK_JOB_WAIT_SECONDS = 600
    settings.SANDBOX_FAULT_JOB_STUCK_RATE = 1.0
    ticket_ids = make_tickets(50)

    started = time.monotonic()
    job = job_start(
        tool=get_tool("tag-manager"),
        user=user,
        params=tag_params(make_view("Everything")),
        expected_tickets=50,
    )

    assert time.monotonic() - started < 30
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert_every_ticket_settled(job, ticket_ids)
    failed = job.results.filter(outcome=Outcome.FAILED)
    assert failed.count() == 50
    assert all("did not finish within 1 s" in r.error for r in failed)


def test_vanished_zendesk_jobs_count_only_what_the_tickets_prove(
    user, run_worker, settings
):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0.2
    settings.SANDBOX_FAULT_JOB_VANISH_RATE = 0.5
    settings.SANDBOX_FAULT_SEED = 2
    ticket_ids = make_tickets(300, status=lambda n: "closed" if n % 50 == 0 else "open")
    modes = current_modes(timezone.now())
    vanishing = [modes.job_fate(n) == JobStatus.Fate.VANISHED for n in range(1, 4)]
    assert vanishing == [False, True, True]

    job = start_on_worker(user, make_view("Everything"))
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert_every_ticket_settled(job, ticket_ids)
    closed = set(ticket_ids[::50])
    assert tickets_with(job, Outcome.FAILED) == closed
    # The vanished jobs' closed tickets fail with the vanishing as the reason,
    # the first job's with Zendesk's own answer.
    errors = outcomes_by_ticket(job)
    first_chunk = set(chunks_of(ticket_ids)[0])
    for pk in closed:
        expected = "closed prevents" if pk in first_chunk else "vanished"
        assert expected in errors[pk][1]
    assert logged("tickets/show_many") == 2


# TooManyJobs


def test_a_full_job_queue_that_clears_loses_no_chunk(user, sandbox_url):
    ticket_ids = make_tickets(250)
    FaultModes.objects.create(too_many_jobs=True, retry_after_seconds=2)

    def clear_after_three_waits(sleeps: int) -> None:
        if sleeps == 3:
            FaultModes.objects.all().delete()

    fake_time = FakeTime(on_sleep=clear_after_three_waits)
    engine = engine_for(user, make_view("Everything"), fake_time)
    engine.run()

    job = finished(engine)
    assert_every_ticket_settled(job, ticket_ids)
    assert job.succeeded == 250
    assert fake_time.sleeps[:3] == [2, 2, 2]  # then it polls the jobs it sent
    assert logged("update_many", 429) == 3
    assert JobStatus.objects.count() == 3


def test_a_queue_that_never_clears_fails_its_chunks_unchanged(
    user, sandbox_url, settings
):
    settings.ZENDESK_JOB_WAIT_SECONDS = 5
    settings.SANDBOX_FAULT_TOO_MANY_JOBS = True
    settings.SANDBOX_FAULT_RETRY_AFTER_SECONDS = 2
    ticket_ids = make_tickets(150)

    engine = engine_for(user, make_view("Everything"), FakeTime())
    engine.run()

    job = finished(engine)
    assert_every_ticket_settled(job, ticket_ids)
    assert job.failed == 150
    assert all(
        "kept refusing new jobs" in error
        for _, error in outcomes_by_ticket(job).values()
    )
    assert JobStatus.objects.count() == 0


def test_a_full_queue_is_given_up_on_within_the_configured_wait(
    user, sandbox_url, settings
):
    settings.ZENDESK_JOB_WAIT_SECONDS = 5
    settings.SANDBOX_FAULT_TOO_MANY_JOBS = True
    settings.SANDBOX_FAULT_RETRY_AFTER_SECONDS = 60
    make_tickets(20)
    fake_time = FakeTime()

    engine = engine_for(user, make_view("Everything"), fake_time)
    engine.run()

    assert finished(engine).failed == 20
    assert fake_time.now <= settings.ZENDESK_JOB_WAIT_SECONDS


# A 429 storm


def test_a_429_storm_that_passes_is_waited_out(user, sandbox_url):
    ticket_ids = make_tickets(150)
    FaultModes.objects.create(throttle_rate=1.0, retry_after_seconds=3)

    def calm_after_four_waits(sleeps: int) -> None:
        if sleeps == 4:
            FaultModes.objects.all().delete()

    fake_time = FakeTime(on_sleep=calm_after_four_waits)
    engine = engine_for(user, make_view("Everything"), fake_time)
    engine.run()

    job = finished(engine)
    assert_every_ticket_settled(job, ticket_ids)
    assert job.succeeded == 150
    assert fake_time.sleeps[:4] == [3, 3, 3, 3]  # then it polls the jobs it sent
    assert RequestLog.objects.filter(status_code=429).count() == 4


def test_throttled_calls_on_a_real_worker_are_retried(user, run_worker, settings):
    settings.SANDBOX_FAULT_THROTTLE_RATE = 0.3
    settings.SANDBOX_FAULT_RETRY_AFTER_SECONDS = 1
    settings.SANDBOX_FAULT_SEED = 0  # the very first call is throttled
    ticket_ids = make_tickets(200)

    job = start_on_worker(user, make_view("Everything"))
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert_every_ticket_settled(job, ticket_ids)
    assert RequestLog.objects.filter(status_code=429).count() >= 1


def test_a_storm_longer_than_the_clients_patience_fails_chunks_with_the_reason(
    user, sandbox_url, settings
):
    settings.ZENDESK_RATE_LIMIT_WAIT_SECONDS = 5
    ticket_ids = make_tickets(150)
    engine = engine_for(user, make_view("Everything"), FakeTime())
    engine.collect()

    FaultModes.objects.create(throttle_rate=1.0, retry_after_seconds=2)
    engine.update_pending()

    job = finished(engine)
    assert_every_ticket_settled(job, ticket_ids)
    assert job.failed == 150
    error = job.results.first().error
    assert "still rate limited" in error
    assert "reading the ticket failed too" in error


# A 5xx rate


def test_server_errors_now_and_then_are_retried_until_all_succeed(
    user, run_worker, settings
):
    settings.SANDBOX_FAULT_SERVER_ERROR_RATE = 0.3
    settings.SANDBOX_FAULT_SEED = 3
    ticket_ids = make_tickets(300)

    job = start_on_worker(user, make_view("Everything"))
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert_every_ticket_settled(job, ticket_ids)
    assert RequestLog.objects.filter(status_code__in=(500, 502, 503)).count() >= 1


def test_frequent_server_errors_fail_some_chunks_with_the_reason(
    user, sandbox_url, settings
):
    settings.ZENDESK_MAX_RETRIES = 1
    ticket_ids = make_tickets(500)
    engine = engine_for(user, make_view("Everything"), FakeTime())
    engine.collect()

    FaultModes.objects.create(server_error_rate=0.7, seed=6)
    engine.update_pending()

    job = finished(engine)
    assert_every_ticket_settled(job, ticket_ids)
    assert 0 < job.failed < 500
    failed = job.results.filter(outcome=Outcome.FAILED)
    assert all("Zendesk did not confirm the update" in r.error for r in failed)


# Slow answers


def wait_for_logged(path_part: str, count: int) -> None:
    """Let held-back answers finish, so none lands in the next test's log."""
    for _ in range(100):
        if logged(path_part) >= count:
            return
        time.sleep(0.1)
    pytest.fail(f"the sandbox never answered {count} calls to {path_part}")


def test_answers_slower_than_the_timeout_are_settled_from_the_tickets(
    user, sandbox_url, settings
):
    settings.ZENDESK_MAX_RETRIES = 1
    settings.SANDBOX_FAULT_DELAY_SECONDS = 2.5
    settings.SANDBOX_FAULT_DELAY_PATHS = ["update_many"]
    ticket_ids = make_tickets(60)

    engine = engine_for(user, make_view("Everything"), FakeTime(), read_timeout=0.5)
    engine.run()
    wait_for_logged("update_many", 2)

    job = finished(engine)
    assert_every_ticket_settled(job, ticket_ids)
    assert job.succeeded == 60
    # Both attempts timed out on the client's side, after the work was done.
    assert JobStatus.objects.count() == 2
    assert logged("tickets/show_many") == 1
