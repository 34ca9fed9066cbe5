"""One Tag Manager run as a user starts it: seed the sandbox, start an "add"
job through jobs.services, wait for the worker to finish it, and collect
what it cost."""

import json
import logging
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser

from bench.world import BenchError, Service
from jobs.models import Job
from jobs.services import job_cancel, job_start
from sandbox.models import RequestLog, View
from tools.registry import get_tool

logger = logging.getLogger(__name__)

VIEW_TITLE = "All tickets"  # the seeded view that holds every ticket
CHUNK_SIZE = 100
PROGRESS_EVERY_SECONDS = 15.0
REPORT_WAIT_SECONDS = 30.0
_ID_PART = re.compile(r"/(\d+|[0-9a-f]{32})(?=/|\.json|$)")


@dataclass
class RunFigures:
    tickets: int
    wall_seconds: float
    succeeded: int
    failed: int
    calls: Counter = field(default_factory=Counter)  # by "METHOD endpoint"
    throttled: int = 0  # 429 answers among the calls
    worker: dict = field(default_factory=dict)  # from the measuring worker

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def chunks(self) -> int:
        return max(1, math.ceil(self.tickets / CHUNK_SIZE))

    def update_phase(self, key: str) -> float | None:
        phase = self.worker.get("queries", {}).get("update")
        return None if phase is None else phase[key] / self.chunks

    def job_row_writes_per_chunk(self) -> float | None:
        phase = self.worker.get("queries", {}).get("update")
        if phase is None:
            return None
        return phase["writes_by_table"].get("jobs_job", 0) / self.chunks


def view_of_all_tickets() -> View:
    view = View.objects.filter(title=VIEW_TITLE).first()
    if view is None:
        raise BenchError(f"The sandbox has no view {VIEW_TITLE!r}; was it seeded?")
    return view


def start_add_job(user: AbstractBaseUser, tickets: int, tag: str) -> Job:
    """Start the job the way the form does, so that it goes to the worker."""
    view = view_of_all_tickets()
    params = {
        "source": {"type": "view", "id": view.pk, "title": view.title},
        "operation": "add",
        "tags": [tag],
        "limit": tickets,
        "dry_run": False,
    }
    job = job_start(
        tool=get_tool("tag-manager"), user=user, params=params, expected_tickets=tickets
    )
    if not job.rq_job_id:
        raise BenchError(f"Job {job.pk} did not go to the worker ({job.status})")
    return job


def wait_until_finished(job: Job, worker: Service, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    next_progress = time.monotonic() + PROGRESS_EVERY_SECONDS
    while True:
        job.refresh_from_db()
        if job.is_finished:
            return job
        worker.check_alive()
        if time.monotonic() > deadline:
            job_cancel(job=job)
            raise BenchError(
                f"Job {job.pk} did not finish within {timeout:.0f}s "
                f"({job.processed} of {job.total} done); see {worker.log}"
            )
        if time.monotonic() > next_progress:
            logger.info(
                "job %s: %s, %d of %d", job.pk, job.phase, job.processed, job.total
            )
            next_progress += PROGRESS_EVERY_SECONDS
        time.sleep(0.5)


def figures_for(job: Job, tickets: int, worker_report: Path) -> RunFigures:
    if job.status == Job.Status.FAILED or job.succeeded + job.failed != tickets:
        raise BenchError(
            f"Job {job.pk} ended {job.status} with {job.succeeded} updated and "
            f"{job.failed} failed of {tickets}: {job.error_message}"
        )
    figures = RunFigures(
        tickets=tickets,
        wall_seconds=(job.finished_at - job.created_at).total_seconds(),
        succeeded=job.succeeded,
        failed=job.failed,
    )
    count_calls(figures, job)
    figures.worker = read_worker_report(worker_report, job.pk)
    return figures


def count_calls(figures: RunFigures, job: Job) -> None:
    """The sandbox's own log of the calls made while the job ran; the
    sandbox was seeded afresh (log emptied) just before, so they are all
    the job's."""
    rows = RequestLog.objects.filter(
        at__gte=job.created_at, at__lte=job.finished_at + timedelta(seconds=1)
    ).values_list("method", "path", "status_code")
    for method, path, status_code in rows:
        figures.calls[f"{method} {endpoint_name(path)}"] += 1
        figures.throttled += status_code == 429


def endpoint_name(path: str) -> str:
    """/sandbox/api/v2/views/7/tickets.json -> views/{id}/tickets"""
    name = path.split("/api/v2/", 1)[-1].removesuffix(".json")
    return _ID_PART.sub("/{id}", "/" + name).lstrip("/")


def read_worker_report(report: Path, job_pk: int) -> dict:
    """The measuring worker's line for this job, written as its work-horse
    ends, a moment after the job's row says it finished."""
    deadline = time.monotonic() + REPORT_WAIT_SECONDS
    while time.monotonic() < deadline:
        if report.exists():
            for line in report.read_text().splitlines():
                record = json.loads(line)
                if record["args"] == [job_pk]:
                    return record
        time.sleep(0.2)
    raise BenchError(f"The worker wrote no measurement for job {job_pk}")
