"""Cancelling jobs: a queued one never reaches Zendesk, a running one stops
within one chunk and ends with exact counts."""

import pytest

from jobs.models import Job, TicketResult
from jobs.services import job_cancel, job_enqueue, job_run
from sandbox.models import RequestLog
from tests.job_helpers import ProgressWatch, new_job, outcomes, wait_until
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.registry import get_tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

Outcome = TicketResult.Outcome


def update_calls() -> int:
    return RequestLog.objects.filter(path__contains="update_many").count()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("agent", password="unused-pw-1")


def test_a_queued_job_cancelled_makes_no_zendesk_call(user, rq_queue, run_worker):
    make_tickets(50)
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)

    assert job_cancel(job=job)
    assert rq_queue.count == 0
    run_worker()  # nothing left for it to do

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.finished_at is not None
    assert RequestLog.objects.count() == 0


def test_a_cancelled_job_that_is_still_in_redis_is_skipped(user, rq_queue, run_worker):
    make_tickets(50)
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED)

    run_worker()

    assert RequestLog.objects.count() == 0


def test_a_running_job_stops_after_the_chunk_in_hand(user, sandbox_url, monkeypatch):
    ticket_ids = make_tickets(500)
    job = new_job(user, make_view("Everything"))
    tool = get_tool("tag-manager")
    original_send = type(tool).send_update
    sent = {"n": 0}

    def cancel_during_third_chunk(self, client, chunk, params, **kwargs):
        sent["n"] += 1
        if sent["n"] == 3:
            assert job_cancel(job=job)
        return original_send(self, client, chunk, params, **kwargs)

    monkeypatch.setattr(type(tool), "send_update", cancel_during_third_chunk)
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert (job.total, job.processed, job.succeeded, job.failed) == (500, 300, 300, 0)
    assert outcomes(job) == {Outcome.UPDATED: 300, Outcome.CANCELLED: 200}
    tagged = [pk for pk, tags in tags_of(ticket_ids).items() if "vip" in tags]
    assert len(tagged) == 300
    assert sent["n"] == 3


def test_an_ended_job_cannot_be_cancelled(user):
    job = new_job(user, make_view("Everything"))
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)

    assert not job_cancel(job=job)
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED


def test_cancelling_a_job_on_a_real_worker_stops_its_sending(user, processes):
    ticket_ids = make_tickets(3_000)
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)
    watch = ProgressWatch(job)
    processes("rqworker", "default")

    wait_until(lambda: watch.reached(500), "500 processed")
    sent_before = update_calls()
    assert job_cancel(job=job)
    wait_until(watch.finished, "the job to stop")

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    # At most the chunk being sent as the request came; the ones already in
    # flight at Zendesk are carried out and recorded.
    assert update_calls() - sent_before <= 1
    assert job.processed == job.succeeded == update_calls() * 100
    assert outcomes(job) == {
        Outcome.UPDATED: job.succeeded,
        Outcome.CANCELLED: 3_000 - job.succeeded,
    }
    tagged = [pk for pk, tags in tags_of(ticket_ids).items() if "vip" in tags]
    assert len(tagged) == job.succeeded
    watch.assert_never_went_back_or_past_the_total()
