"""Which process is running a job, and proof that it is still alive.

A run claims a queued job with one conditional update, so that of two
processes racing for the same job exactly one gets it, on SQLite and
PostgreSQL alike. While it runs, a background thread refreshes the job's
heartbeat; the recovery step (jobs/recovery.py) treats a job whose heartbeat
has gone quiet, or whose process is gone, as stopped and queues it again.

Every write a run makes afterwards names its claim token. Once recovery has
handed the job on, a run that was only stalled (not dead) finds its token
gone, changes nothing more and stops.
"""

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from jobs.models import Job

logger = logging.getLogger(__name__)


class ClaimLost(Exception):
    """Another process has taken the job over; this run must stop."""


@dataclass(frozen=True)
class Claim:
    job_id: int
    token: str


def claim_job(job_id: int) -> Claim | None:
    """Take a queued job for this process, or return None if it is not
    queued any more (another process has it, or it has ended)."""
    token = uuid.uuid4().hex
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING,
        claim_token=token,
        claim_host=socket.gethostname()[:255],
        claim_pid=os.getpid(),
        heartbeat_at=timezone.now(),
        # A resumed job keeps the time it first started.
        started_at=Coalesce("started_at", Now()),
        run_started_at=Now(),
        processed_at_run_start=F("processed"),
    )
    if not claimed:
        return None
    return Claim(job_id=job_id, token=token)


def release_job(claim: Claim, reason: str) -> bool:
    """Give a running job back to the queue, for recovery to enqueue again."""
    released = Job.objects.filter(
        pk=claim.job_id, status=Job.Status.RUNNING, claim_token=claim.token
    ).update(
        status=Job.Status.QUEUED,
        claim_token="",
        heartbeat_at=None,
        resumed_count=F("resumed_count") + 1,
    )
    if released:
        logger.warning("Job %s released back to the queue: %s", claim.job_id, reason)
    return bool(released)


def owned(claim: Claim) -> QuerySet[Job]:
    """The job's row, as long as this claim still holds it."""
    return Job.objects.filter(
        pk=claim.job_id, status=Job.Status.RUNNING, claim_token=claim.token
    )


class Heartbeat:
    """Refresh a claimed job's heartbeat from a background thread.

    A thread rather than the engine's own loop: one update_many wait or
    rate-limit pause can last minutes, and the job must not look dead
    meanwhile. The thread dies with the process, which is the point.
    """

    def __init__(self, claim: Claim, interval: float | None = None) -> None:
        self.claim = claim
        self.interval = interval or settings.JOB_HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(
            target=self._beat_until_stopped,
            name=f"heartbeat-job-{claim.job_id}",
            daemon=True,
        )

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _beat_until_stopped(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                if not self._beat():
                    logger.warning(
                        "Job %s: claim lost; another process has the job now",
                        self.claim.job_id,
                    )
                    self._lost.set()
                    return
        finally:
            connection.close()

    def _beat(self) -> bool:
        """Refresh the heartbeat; False once the claim is gone. A failed
        write (a dropped connection, a locked database) is retried at the
        next beat, on a new connection."""
        try:
            return bool(owned(self.claim).update(heartbeat_at=timezone.now()))
        except Exception:
            logger.exception("Job %s: heartbeat not written", self.claim.job_id)
            connection.close()
            return True
