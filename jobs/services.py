"""Starting and running jobs: the one place the views, the admin, the command
line and the worker all go through."""

import logging
import uuid

import django_rq
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from jobs.models import Job
from tools.base import BaseTool
from tools.registry import get_tool
from zendesk import AuthenticationError, ZendeskClient, ZendeskError

logger = logging.getLogger(__name__)


def job_create(
    *,
    tool: BaseTool,
    user: AbstractBaseUser,
    params: dict,
    expected_tickets: int | None = None,
) -> Job:
    job = Job.objects.create(
        tool=tool.get_row(),
        created_by=user,
        params=params,
        dry_run=bool(params.get("dry_run")),
        estimated_total=expected_tickets,
    )
    logger.info(
        "Job %s created by %s: %s %s",
        job.pk,
        user,
        tool.slug,
        tool.describe(params),
    )
    return job


def job_start(
    *,
    tool: BaseTool,
    user: AbstractBaseUser,
    params: dict,
    expected_tickets: int | None,
) -> Job:
    """Create a job and run it: in this process when it is small enough,
    otherwise on a worker. `expected_tickets` is None when unknown."""
    job = job_create(
        tool=tool, user=user, params=params, expected_tickets=expected_tickets
    )

    inline_limit = tool.get_ticket_limit(async_mode=False)
    small = expected_tickets is not None and expected_tickets <= inline_limit
    if small or not tool.supports_async():
        tool.execute(job)
    else:
        tool.execute_async(job)

    job.refresh_from_db()
    return job


def job_enqueue(*, job: Job) -> None:
    rq_job_id = f"tagmanager-job-{job.pk}-{uuid.uuid4().hex[:8]}"
    Job.objects.filter(pk=job.pk).update(rq_job_id=rq_job_id)
    job.rq_job_id = rq_job_id

    # Only the job's database id travels through Redis.
    queue = django_rq.get_queue("default")
    queue.enqueue(
        "jobs.tasks.run_job",
        job.pk,
        job_id=rq_job_id,
        job_timeout=settings.RQ_QUEUES["default"]["DEFAULT_TIMEOUT"],
        description=f"Tag Manager job {job.pk}",
    )
    logger.info("Job %s queued as %s", job.pk, rq_job_id)


def job_run(*, job_id: int, raise_unexpected: bool = True) -> None:
    """Run a queued job to its end. A job that another process has already
    claimed, or that is no longer queued, is left alone.

    An unexpected error marks the job failed and, unless told otherwise, is
    raised again so that RQ records it against the worker's job too."""
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        logger.warning("Job %s is not queued any more; not running it", job_id)
        return

    job = Job.objects.select_related("tool").get(pk=job_id)
    logger.info("Job %s running", job_id)
    try:
        _run_engine(job)
    except AuthenticationError as error:
        _fail(job, f"Zendesk refused the configured credentials ({error}).")
    except ZendeskError as error:
        _fail(job, f"Zendesk could not be reached or answered an error: {error}")
    except Exception:
        logger.exception("Job %s stopped on an unexpected error", job_id)
        _fail(job, "The job stopped on an unexpected error; see the worker log.")
        if raise_unexpected:
            raise
    else:
        _finish(job)


def _run_engine(job: Job) -> None:
    from jobs.engine import JobEngine

    tool = get_tool(job.tool.slug)
    client = ZendeskClient.from_settings()
    JobEngine(job, tool, client).run()


def _finish(job: Job) -> None:
    job.refresh_from_db()
    status = Job.Status.COMPLETED_WITH_ERRORS if job.failed else Job.Status.SUCCEEDED
    _end(job, status)


def _fail(job: Job, message: str) -> None:
    _end(job, Job.Status.FAILED, error_message=message)


def _end(job: Job, status: str, **fields) -> None:
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=status,
        phase=Job.Phase.DONE,
        finished_at=timezone.now(),
        **fields,
    )
    job.refresh_from_db()
    logger.info(
        "Job %s ended %s: %d processed of %d, %d updated, %d unchanged, %d failed",
        job.pk,
        job.status,
        job.processed,
        job.total,
        job.succeeded,
        job.unchanged,
        job.failed,
    )
