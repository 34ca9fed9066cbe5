"""Finding jobs whose run stopped without ending them, and queueing them again.

The database says which jobs should be running or waiting; Redis and the
workers may disagree after a crash. Two cases are repaired:

- a running job whose heartbeat has gone quiet, or whose process is seen
  gone on this machine: its worker died (SIGKILL, out of memory, a reboot).
  It is queued again and resumes from the tickets that have no outcome yet;
- a queued job that Redis no longer holds waiting (Redis was flushed or lost
  its data, the job was released by a shutdown, or a worker took it off the
  queue and froze or died before starting it): it is enqueued again.

Queueing a job twice is harmless: a run must first claim the job in the
database (jobs/claims.py), and only one can.

This runs when a worker starts, whenever a worker's work-horse dies, and
from `manage.py recover_jobs --watch` on a timer. The timer is a process of
its own rather than an rq scheduled job because a scheduled job needs a free
worker to run on, and a stopped job most needs noticing when every worker is
busy or gone.
"""

import logging
import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

import django_rq
from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.queue import Queue

from jobs.models import Job
from jobs.services import new_rq_job_id, put_on_queue

logger = logging.getLogger(__name__)

# A job is created, then put on the queue a moment later; leave it that moment.
ENQUEUE_GRACE_SECONDS = 15
WAITING_IN_RQ = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def recover_jobs(now: datetime | None = None) -> list[int]:
    """Queue again every job that should be running or waiting but is not.
    Returns the ids of the jobs queued again."""
    now = now or timezone.now()
    recovered = []

    for job in _running_jobs():
        reason = _why_stopped(job, now)
        if reason and _requeue(job, now, reason, was_running=True):
            recovered.append(job.pk)

    try:
        for job in _queued_jobs_missing_from_redis(now):
            reason = "Redis no longer holds it in the queue"
            if _requeue(job, now, reason, was_running=False):
                recovered.append(job.pk)
    except RedisError as error:
        logger.error("Recovery could not read the queue from Redis: %s", error)
    return recovered


def _running_jobs():
    return Job.objects.filter(status=Job.Status.RUNNING).only(
        "pk", "claim_token", "claim_host", "claim_pid", "heartbeat_at", "rq_job_id"
    )


def _why_stopped(job: Job, now: datetime) -> str | None:
    stale_before = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    if job.heartbeat_at is None or job.heartbeat_at < stale_before:
        last = job.heartbeat_at.isoformat() if job.heartbeat_at else "never"
        return f"its heartbeat went quiet (last {last})"

    on_this_machine = job.claim_host == socket.gethostname()[:255]
    if on_this_machine and job.claim_pid and not process_is_running(job.claim_pid):
        return f"its process {job.claim_pid} is gone"
    return None


def process_is_running(pid: int) -> bool:
    """Whether a process of this machine is alive. A zombie (dead, not yet
    reaped by its parent) counts as gone."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        # The state letter follows the command name, which is in brackets.
        state = stat.read_text().rpartition(")")[2].split()[0]
        return state not in {"Z", "X"}
    except FileNotFoundError:
        return False
    except OSError:
        pass

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _queued_jobs_missing_from_redis(now: datetime):
    grace_before = now - timedelta(seconds=ENQUEUE_GRACE_SECONDS)
    queued = Job.objects.annotate(
        waiting_since=Coalesce("queued_at", "created_at")
    ).filter(status=Job.Status.QUEUED, waiting_since__lt=grace_before)

    connection = django_rq.get_connection("default")
    for job in queued.only("pk", "rq_job_id"):
        if not _waiting_in_rq(job.rq_job_id, connection):
            yield job


def _waiting_in_rq(rq_job_id: str, connection) -> bool:
    if not rq_job_id:
        return False

    try:
        rq_job = RQJob.fetch(rq_job_id, connection=connection)
    except NoSuchJobError:
        return False
    status = rq_job.get_status()
    if status != JobStatus.QUEUED:
        return status in WAITING_IN_RQ
    # A worker takes the id off the queue's list before it marks the job
    # started: one frozen or killed in between leaves a job that still says
    # "queued" but that no worker will ever be handed.
    queue_key = Queue(rq_job.origin, connection=connection).key
    return connection.lpos(queue_key, rq_job_id) is not None


def _requeue(job: Job, now: datetime, reason: str, *, was_running: bool) -> bool:
    """Move the job back to queued, unless something else changed it first,
    and put it on the queue."""
    rq_job_id = new_rq_job_id(job.pk)
    if was_running:
        # Also the heartbeat judged: one that beat meanwhile is alive.
        unchanged = Q(
            status=Job.Status.RUNNING,
            claim_token=job.claim_token,
            heartbeat_at=job.heartbeat_at,
        )
        resumes = F("resumed_count") + 1
    else:
        unchanged = Q(status=Job.Status.QUEUED, rq_job_id=job.rq_job_id)
        resumes = F("resumed_count")

    moved = Job.objects.filter(unchanged, pk=job.pk).update(
        status=Job.Status.QUEUED,
        claim_token="",
        heartbeat_at=None,
        rq_job_id=rq_job_id,
        queued_at=now,
        resumed_count=resumes,
    )
    if not moved:
        return False

    logger.warning("Job %s queued again: %s", job.pk, reason)
    try:
        put_on_queue(job.pk, rq_job_id)
    except RedisError as error:
        # The row says queued; the next recovery pass tries again.
        logger.error("Job %s could not be put on the queue: %s", job.pk, error)
    return True
