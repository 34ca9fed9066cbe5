"""Runs that stop part-way: claims, recovery and resuming, driven in this
process against the sandbox over real HTTP."""

import subprocess
from collections import Counter
from datetime import timedelta

import pytest
from django.db.utils import OperationalError
from django.utils import timezone

from jobs import claims
from jobs.chunk_results import ChunkOutcome
from jobs.claims import ClaimLost, Heartbeat, claim_job
from jobs.engine import UNCONFIRMED_SEND, JobEngine
from jobs.models import Job, TicketResult
from jobs.recovery import recover_jobs
from jobs.services import job_create, job_enqueue, job_resume, job_run
from sandbox.faults import inject_fault
from sandbox.models import JobStatus, RequestLog, Ticket
from tests.job_helpers import new_job, outcomes, tag_params, wait_until
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.registry import get_tool
from zendesk import ServerError, ZendeskClient

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

Outcome = TicketResult.Outcome


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("agent", password="unused-pw-1")


@pytest.fixture
def two_jobs_in_flight(settings):
    # Zendesk jobs that take a moment, two at a time: a crash then leaves
    # some chunks recorded and some sent but not yet read.
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0.05
    settings.ZENDESK_MAX_JOBS_IN_FLIGHT = 2


def update_calls() -> int:
    return RequestLog.objects.filter(path__contains="update_many").count()


def crash_on_poll(monkeypatch, *, at_call: int) -> None:
    """Make the run die when it polls Zendesk's jobs for the `at_call`-th
    time: the chunks in flight were sent, and their results not recorded."""
    original = JobEngine._poll
    calls = {"n": 0}

    def poll_or_die(engine, in_flight, queue):
        calls["n"] += 1
        if calls["n"] == at_call:
            raise SystemExit("worker shutting down")
        return original(engine, in_flight, queue)

    monkeypatch.setattr(JobEngine, "_poll", poll_or_die)


def test_of_two_claims_on_one_job_only_the_first_wins(user):
    job = new_job(user, make_view("Everything"))

    first = claim_job(job.pk)
    second = claim_job(job.pk)

    assert first is not None
    assert second is None
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    assert job.claim_token == first.token


def test_a_live_job_is_left_alone(user, rq_queue):
    job = new_job(user, make_view("Everything"))
    claim_job(job.pk)  # this process: alive, heartbeat fresh

    assert recover_jobs() == []

    Job.objects.filter(pk=job.pk).update(claim_host="another-machine", claim_pid=1)
    assert recover_jobs() == []


def test_a_job_whose_heartbeat_went_quiet_is_queued_again(user, rq_queue, settings):
    job = new_job(user, make_view("Everything"))
    claim_job(job.pk)
    quiet_since = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    Job.objects.filter(pk=job.pk).update(
        claim_host="another-machine", heartbeat_at=quiet_since - timedelta(seconds=1)
    )

    assert recover_jobs() == [job.pk]

    job.refresh_from_db()
    assert (job.status, job.claim_token, job.resumed_count) == ("queued", "", 1)
    assert rq_queue.job_ids == [job.rq_job_id]


def test_a_job_whose_process_is_gone_is_queued_at_once(user, rq_queue):
    job = new_job(user, make_view("Everything"))
    claim_job(job.pk)
    gone = subprocess.Popen(["true"])
    gone.wait()
    Job.objects.filter(pk=job.pk).update(claim_pid=gone.pid)

    assert recover_jobs() == [job.pk]
    assert rq_queue.count == 1


def test_a_queued_job_that_redis_lost_is_queued_again(user, rq_queue):
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)
    rq_queue.connection.flushdb()

    assert recover_jobs() == []  # just queued: given a moment first
    later = timezone.now() + timedelta(minutes=1)
    assert recover_jobs(now=later) == [job.pk]

    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert rq_queue.job_ids == [job.rq_job_id]
    assert recover_jobs(now=later) == []  # now waiting in Redis again


def test_a_job_a_worker_took_off_the_queue_but_never_started_is_queued_again(
    user, rq_queue
):
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)
    # A worker pops the id, then freezes before marking the job started.
    rq_queue.connection.lpop(rq_queue.key)

    later = timezone.now() + timedelta(minutes=1)
    assert recover_jobs(now=later) == [job.pk]

    job.refresh_from_db()
    assert rq_queue.job_ids == [job.rq_job_id]
    assert recover_jobs(now=later) == []


def test_a_run_that_lost_its_claim_changes_nothing(user, rq_queue, sandbox_url):
    make_tickets(30)
    job = new_job(user, make_view("Everything"))
    stalled = claim_job(job.pk)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=None)
    recover_jobs()  # the stalled run is taken for dead

    engine = JobEngine(
        job, get_tool("tag-manager"), ZendeskClient.from_settings(), claim=stalled
    )
    with pytest.raises(ClaimLost):
        engine.run()

    assert job.results.count() == 0
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_a_run_stopped_after_sending_resumes_by_reading_zendesk_job(
    user, rq_queue, sandbox_url, two_jobs_in_flight, monkeypatch
):
    ticket_ids = make_tickets(500)
    job = new_job(user, make_view("Everything"))
    crash_on_poll(monkeypatch, at_call=2)

    with pytest.raises(SystemExit):
        job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed, job.resumed_count) == ("queued", 200, 1)
    in_flight = job.results.filter(outcome=Outcome.PENDING).exclude(zendesk_job_id="")
    assert in_flight.count() == 200

    monkeypatch.undo()
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.total, job.processed, job.succeeded) == (500, 500, 500)
    assert outcomes(job) == {Outcome.UPDATED: 500}
    assert update_calls() == 5  # the chunks in flight were not sent twice
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())


def test_a_chunk_whose_zendesk_job_vanished_is_sent_again_only_where_not_applied(
    user, rq_queue, sandbox_url, two_jobs_in_flight, monkeypatch
):
    ticket_ids = make_tickets(300)
    job = new_job(user, make_view("Everything"))
    crash_on_poll(monkeypatch, at_call=1)
    with pytest.raises(SystemExit):
        job_run(job_id=job.pk)
    JobStatus.objects.all().delete()  # Zendesk forgot its job statuses
    # ...and the first chunk's job never ran after all.
    first_chunk = ticket_ids[:100]
    Ticket.objects.filter(pk__in=first_chunk).update(tags=" ")

    monkeypatch.undo()
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed, job.succeeded) == ("succeeded", 300, 300)
    # Three chunks, and the one whose tickets did not show the change again.
    assert update_calls() == 4
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())


def test_a_tag_an_agent_adds_while_the_job_runs_survives(
    user, sandbox_url, monkeypatch
):
    ticket_ids = make_tickets(500)
    job = new_job(user, make_view("Everything"))
    tool = get_tool("tag-manager")
    original_send = type(tool).send_update
    sent = {"n": 0}

    def agent_edits_before_third_chunk(self, client, chunk, params, **kwargs):
        sent["n"] += 1
        if sent["n"] == 3:
            # An agent tags every ticket in Zendesk while the job is half-way.
            for ticket in Ticket.objects.all():
                ticket.tags = ticket.tags + "escalated "
                ticket.save(update_fields=["tags"])
        return original_send(self, client, chunk, params, **kwargs)

    monkeypatch.setattr(type(tool), "send_update", agent_edits_before_third_chunk)
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.succeeded) == ("succeeded", 500)
    for tags in tags_of(ticket_ids).values():
        assert {"base", "vip", "escalated"} <= set(tags)
    later_snapshot = job.results.get(ticket_id=ticket_ids[-1]).tags_before
    assert "escalated" not in later_snapshot  # the list was taken before


def test_refused_credentials_stop_the_job_and_it_resumes_once_fixed(
    user, rq_queue, sandbox_url, monkeypatch
):
    ticket_ids = make_tickets(500)
    job = new_job(user, make_view("Everything"))
    tool = get_tool("tag-manager")
    original_send = type(tool).send_update
    sent = {"n": 0}

    def credentials_revoked_at_third_chunk(self, client, chunk, params, **kwargs):
        sent["n"] += 1
        if sent["n"] == 3:
            inject_fault("update_many", 401)
        return original_send(self, client, chunk, params, **kwargs)

    monkeypatch.setattr(type(tool), "send_update", credentials_revoked_at_third_chunk)
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Zendesk refused the configured credentials" in job.error_message
    # The two chunks in flight cannot be read without credentials either.
    assert (job.processed, job.succeeded, job.failed) == (500, 0, 500)
    errors = list(job.results.values_list("error", flat=True))
    assert sum(error.startswith("Sent to Zendesk, but") for error in errors) == 200
    assert sum(error.startswith("Not changed:") for error in errors) == 300

    assert job_resume(job=job)
    job.refresh_from_db()
    assert (job.status, job.processed, job.failed) == ("queued", 0, 0)
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.total, job.processed, job.succeeded, job.failed) == (500, 500, 500, 0)
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())
    assert not job_resume(job=job)  # only a failed job resumes


def test_a_chunk_recorded_twice_is_counted_once(user, sandbox_url):
    make_tickets(100)
    job = new_job(user, make_view("Everything"))
    claim = claim_job(job.pk)
    engine = JobEngine(
        job, get_tool("tag-manager"), ZendeskClient.from_settings(), claim=claim
    )
    engine.collect()
    ids = list(job.results.values_list("ticket_id", flat=True))

    engine._record(ids, ChunkOutcome(updated=ids))
    engine._record(ids, ChunkOutcome(failures=dict.fromkeys(ids, "a late answer")))

    job.refresh_from_db()
    assert (job.processed, job.succeeded, job.failed) == (100, 100, 0)
    assert outcomes(job) == {Outcome.UPDATED: 100}


def test_a_collection_cut_short_goes_on_without_counting_back(
    user, rq_queue, sandbox_url, monkeypatch
):
    ticket_ids = make_tickets(2_500)
    job = new_job(user, make_view("Everything"))
    tool_class = type(get_tool("tag-manager"))
    original_iter = tool_class.iter_tickets

    def dies_part_way(self, client, params):
        for n, ticket in enumerate(original_iter(self, client, params)):
            if n == 1_500:
                raise SystemExit("worker shutting down")
            yield ticket

    monkeypatch.setattr(tool_class, "iter_tickets", dies_part_way)
    with pytest.raises(SystemExit):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.phase, job.total) == ("queued", "collecting", 1_000)

    monkeypatch.undo()
    found_so_far = []
    original_store = JobEngine._store_collected

    def store_and_note(engine, batch, *, collected):
        found_so_far.append(collected)
        original_store(engine, batch, collected=collected)

    monkeypatch.setattr(JobEngine, "_store_collected", store_and_note)
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert found_so_far == sorted(found_so_far)
    assert min(found_so_far) >= 1_000
    assert (job.status, job.total, job.succeeded) == ("succeeded", 2_500, 2_500)
    assert job.results.count() == 2_500
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())


def test_chunks_sent_by_a_run_that_lost_its_claim_are_checked_by_the_new_run(
    user, rq_queue, sandbox_url, two_jobs_in_flight, monkeypatch
):
    ticket_ids = make_tickets(500)
    job = new_job(user, make_view("Everything"))
    tool_class = type(get_tool("tag-manager"))
    original_send = tool_class.send_update
    sent = {"n": 0}

    def handed_on_during_second_send(self, client, chunk, params, **kwargs):
        sent["n"] += 1
        if sent["n"] == 2:
            # Recovery took this run for dead and queued the job again.
            Job.objects.filter(pk=job.pk).update(status="queued", claim_token="")
        return original_send(self, client, chunk, params, **kwargs)

    monkeypatch.setattr(tool_class, "send_update", handed_on_during_second_send)
    job_run(job_id=job.pk)  # stops quietly: the job is not its own any more

    # The second chunk's rows say only that it was being sent: the run lost
    # the job before it could write Zendesk's job id on them.
    marks = Counter(job.results.values_list("zendesk_job_id", flat=True))
    assert marks[UNCONFIRMED_SEND] == 100
    assert marks[""] == 300
    monkeypatch.undo()
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed, job.succeeded) == ("succeeded", 500, 500)
    assert outcomes(job) == {Outcome.UPDATED: 500}
    # The new run found the second chunk applied and did not send it again.
    assert update_calls() == 5
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())


def test_a_dry_run_that_failed_while_collecting_resumes_whole(
    user, rq_queue, sandbox_url, monkeypatch
):
    make_tickets(500, status=lambda n: "closed" if n % 10 == 0 else "open")
    params = {**tag_params(make_view("Everything")), "dry_run": True}
    job = job_create(tool=get_tool("tag-manager"), user=user, params=params)
    tool_class = type(get_tool("tag-manager"))
    original_iter = tool_class.iter_tickets

    def view_fails_part_way(self, client, params):
        for n, ticket in enumerate(original_iter(self, client, params)):
            if n == 300:
                raise ServerError("the view stopped answering")
            yield ticket

    monkeypatch.setattr("jobs.engine.COLLECT_BATCH", 100)
    monkeypatch.setattr(tool_class, "iter_tickets", view_fails_part_way)
    job_run(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED

    monkeypatch.undo()
    assert job_resume(job=job)
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.total, job.processed) == ("succeeded", 500, 500)
    assert outcomes(job) == {Outcome.WOULD_CHANGE: 450, Outcome.FAILED: 50}


def test_a_heartbeat_that_fails_once_keeps_beating(user, monkeypatch):
    job = new_job(user, make_view("Everything"))
    claim = claim_job(job.pk)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=None)
    original_owned = claims.owned
    calls = {"n": 0}

    def flaky_owned(claim_):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("database is locked")
        return original_owned(claim_)

    monkeypatch.setattr(claims, "owned", flaky_owned)
    with Heartbeat(claim, interval=0.05) as heartbeat:
        wait_until(lambda: calls["n"] >= 3, "three beats", timeout=10)

    assert not heartbeat.lost
    assert Job.objects.get(pk=job.pk).heartbeat_at is not None
