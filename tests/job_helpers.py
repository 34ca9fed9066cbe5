"""Making, running and watching Tag Manager jobs in tests."""

import time
from collections.abc import Callable

import pytest

from jobs.claims import claim_job
from jobs.engine import JobEngine
from jobs.models import Job
from jobs.services import job_create
from tools.registry import get_tool
from zendesk import ZendeskClient


class FakeTime:
    """A clock that moves only when someone sleeps; `on_sleep` runs after
    each sleep, so a test can change the sandbox as time passes."""

    def __init__(self, on_sleep=None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


def tag_params(view, *, tags=("vip",), limit: int = 10_000) -> dict:
    """A Tag Manager run adding `tags` to the tickets of `view`."""
    return {
        "source": {"type": "view", "id": view.pk, "title": view.title},
        "operation": "add",
        "tags": list(tags),
        "limit": limit,
        "dry_run": False,
    }


def new_job(user, view, *, tags=("vip",), limit: int = 10_000) -> Job:
    """A queued Tag Manager job adding `tags` to the tickets of `view`."""
    params = tag_params(view, tags=tags, limit=limit)
    return job_create(tool=get_tool("tag-manager"), user=user, params=params)


VIEW_PARAMS = {
    "source": {"type": "view", "id": 1, "title": "Everything"},
    "operation": "add",
    "tags": ["vip"],
    "limit": 100,
    "dry_run": False,
}


def job_row(user, **fields) -> Job:
    """A job row in whatever state the test asks for, with nothing run."""
    fields.setdefault("params", VIEW_PARAMS)
    tool = get_tool("tag-manager").get_row()
    return Job.objects.create(tool=tool, created_by=user, **fields)


def run_engine(job: Job, *, fake_time: FakeTime | None = None) -> Job:
    """Claim the job and run the engine in this process; with
    `fake_time=None`, on real time."""
    client = ZendeskClient.from_settings()
    timing = {}
    if fake_time is not None:
        timing = {"sleep": fake_time.sleep, "clock": fake_time.clock}
    claim = claim_job(job.pk)
    JobEngine(job, get_tool("tag-manager"), client, claim=claim, **timing).run()
    job.refresh_from_db()
    return job


def outcomes(job: Job) -> dict[str, int]:
    counted: dict[str, int] = {}
    for outcome in job.results.values_list("outcome", flat=True):
        counted[outcome] = counted.get(outcome, 0) + 1
    return counted


def wait_until(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(0.05)


class ProgressWatch:
    """Samples a job's counters and remembers every value seen."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.samples: list[tuple[str, int, int]] = []

    def sample(self) -> Job:
        self.job.refresh_from_db()
        job = self.job
        self.samples.append((job.phase, job.total, job.processed))
        return job

    def reached(self, processed: int) -> bool:
        job = self.sample()
        return job.status == Job.Status.RUNNING and job.processed >= processed

    def finished(self) -> bool:
        return self.sample().is_finished

    def assert_never_went_back_or_past_the_total(self) -> None:
        processed_seen = [processed for _, _, processed in self.samples]
        assert processed_seen == sorted(processed_seen)
        assert all(processed <= total for _, total, processed in self.samples)
