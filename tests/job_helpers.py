"""Making and running Tag Manager jobs in tests."""

from jobs.claims import claim_job
from jobs.engine import JobEngine
from jobs.models import Job
from jobs.services import job_create
from tools.registry import get_tool
from zendesk import ZendeskClient


class FakeTime:
    """A clock that moves only when the engine sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def new_job(user, view, *, tags=("vip",), limit: int = 10_000) -> Job:
    """A queued Tag Manager job adding `tags` to the tickets of `view`."""
    params = {
        "source": {"type": "view", "id": view.pk, "title": view.title},
        "operation": "add",
        "tags": list(tags),
        "limit": limit,
        "dry_run": False,
    }
    return job_create(tool=get_tool("tag-manager"), user=user, params=params)


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
