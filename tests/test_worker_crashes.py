"""Real worker processes killed, raced and robbed of their Redis mid-job.
Whatever happens, the job completes and every ticket ends with exactly one
outcome."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from jobs.models import Job, TicketResult
from jobs.services import job_enqueue, new_rq_job_id, put_on_queue
from sandbox.models import RequestLog
from tests.job_helpers import ProgressWatch, new_job, outcomes, wait_until
from tests.processes import Process
from tests.sandbox_data import make_tickets, make_view, tags_of

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

ROOT = Path(__file__).resolve().parent.parent
Outcome = TicketResult.Outcome
BURST_WORKER = [sys.executable, "manage.py", "rqworker", "default", "--burst"]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("agent", password="unused-pw-1")


def worker(start) -> Process:
    return start("rqworker", "default")


def kill_horse(job: Job) -> int:
    """SIGKILL the work-horse process running the job; return its pid."""
    job.refresh_from_db()
    pid = job.claim_pid
    assert pid and pid != os.getpid(), "the job must be running in a worker"
    os.kill(pid, signal.SIGKILL)
    return pid


def update_calls() -> int:
    return RequestLog.objects.filter(path__contains="update_many").count()


def duplicate_outcomes(job: Job) -> int:
    repeated = job.results.values("ticket_id").annotate(n=Count("id")).filter(n__gt=1)
    return repeated.count()


def test_a_job_survives_its_worker_being_killed_three_times(user, processes):
    ticket_ids = make_tickets(5_000)
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)
    watch = ProgressWatch(job)
    processes("recover_jobs", "--watch")

    current = worker(processes)
    kills = 0
    for threshold in (1, 1_500, 3_000):
        wait_until(partial(watch.reached, threshold), f"{threshold} processed")
        kill_horse(job)
        current.kill()
        kills += 1
        current = worker(processes)
    wait_until(watch.finished, "the job to finish", timeout=180)

    job.refresh_from_db()
    duplicates = duplicate_outcomes(job)
    print(
        f"kills={kills} tickets={len(ticket_ids)} outcomes={job.results.count()} "
        f"duplicate_outcomes={duplicates} update_many_calls={update_calls()} "
        f"resumed={job.resumed_count}"
    )
    assert job.status == Job.Status.SUCCEEDED
    assert job.resumed_count == kills
    assert outcomes(job) == {Outcome.UPDATED: 5_000}
    assert duplicates == 0
    assert (job.total, job.processed, job.succeeded) == (5_000, 5_000, 5_000)
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())
    watch.assert_never_went_back_or_past_the_total()


def test_the_worker_resumes_a_job_whose_work_horse_was_killed(user, processes):
    ticket_ids = make_tickets(1_000)
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)
    watch = ProgressWatch(job)

    worker(processes)  # and no recovery watcher: the worker itself notices
    wait_until(lambda: watch.reached(300), "300 processed")
    killed_pid = kill_horse(job)
    wait_until(watch.finished, "the job to finish")

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.resumed_count == 1
    assert job.claim_pid != killed_pid
    assert (job.processed, job.succeeded) == (1_000, 1_000)
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())
    watch.assert_never_went_back_or_past_the_total()


def test_jobs_outlive_a_redis_flush(user, processes, rq_queue):
    running_ids = make_tickets(2_000)
    view = make_view("Everything")
    running = new_job(user, view)
    waiting = new_job(user, view, tags=["second"])
    job_enqueue(job=running)
    job_enqueue(job=waiting)
    watch = ProgressWatch(running)
    processes("recover_jobs", "--watch")

    worker(processes)
    wait_until(lambda: watch.reached(500), "500 processed")
    rq_queue.connection.flushdb()
    # Waiting longer than a just-queued job is given before recovery acts.
    Job.objects.filter(pk=waiting.pk).update(
        queued_at=timezone.now() - timedelta(minutes=5)
    )
    wait_until(watch.finished, "the running job to finish")
    wait_until(
        lambda: Job.objects.get(pk=waiting.pk).is_finished,
        "the job that was waiting to finish",
    )

    for job in (running, waiting):
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED
        assert (job.processed, job.succeeded) == (2_000, 2_000)
    assert all({"vip", "second"} <= set(tags) for tags in tags_of(running_ids).values())


def test_two_workers_racing_for_one_job_run_it_once(user, worker_env, rq_queue):
    make_tickets(1_000)
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)
    put_on_queue(job.pk, new_rq_job_id(job.pk))  # the same job, queued twice

    racers = [
        subprocess.Popen(
            BURST_WORKER,
            cwd=ROOT,
            env=worker_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    logs = [racer.communicate(timeout=120)[0] for racer in racers]

    assert [racer.returncode for racer in racers] == [0, 0]
    job.refresh_from_db()
    assert (job.status, job.processed, job.succeeded) == ("succeeded", 1_000, 1_000)
    page_reads = RequestLog.objects.filter(path__contains="/tickets").exclude(
        path__contains="update_many"
    )
    assert page_reads.filter(path__contains="/views/").count() == 10
    assert update_calls() == 10
    turned_away = sum("is not queued any more" in log for log in logs)
    assert turned_away == 1, logs


def process_gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or (
        Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    )


@pytest.mark.parametrize("stop", ["ctrl-c", "sigkill of the worker alone"])
def test_a_stopped_worker_hands_its_job_back_at_once(user, processes, stop):
    ticket_ids = make_tickets(3_000)
    job = new_job(user, make_view("Everything"))
    job_enqueue(job=job)
    watch = ProgressWatch(job)

    first = worker(processes)
    wait_until(lambda: watch.reached(300), "300 processed")
    horse = Job.objects.get(pk=job.pk).claim_pid
    if stop == "ctrl-c":
        first.popen.send_signal(signal.SIGINT)
        first.popen.wait(timeout=20)  # rq alone would wait for the job's end
    else:
        first.kill()
    wait_until(lambda: process_gone(horse), "the work-horse to stop", timeout=20)

    job.refresh_from_db()
    assert (job.status, job.resumed_count) == ("queued", 1)
    assert job.processed < 3_000

    processes("recover_jobs", "--watch")
    worker(processes)
    wait_until(watch.finished, "the job to finish")
    job.refresh_from_db()
    assert (job.status, job.processed, job.succeeded) == ("succeeded", 3_000, 3_000)
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())
    watch.assert_never_went_back_or_past_the_total()
