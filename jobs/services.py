"""Starting and running jobs: the one place the views, the admin, the command
line and the worker all go through."""

import logging
import uuid

import django_rq
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from redis.exceptions import RedisError

from jobs.claims import Claim, ClaimLost, Heartbeat, claim_job, owned, release_job
from jobs.engine import InlineLimitExceeded, JobCancelled, JobEngine
from jobs.models import Job, TicketResult
from jobs.rq_progress import mirror_progress
from tools.access import can_use_tool
from tools.base import ATTEMPTS_SINCE, BaseTool, ToolError
from tools.registry import get_tool
from tools.sources import forget_active_views
from zendesk import AuthenticationError, ZendeskClient, ZendeskError

logger = logging.getLogger(__name__)

# An inline run holds a web request (and gunicorn's timeout) open: it gives up
# on a rate limit, or on a Zendesk job that does not end, far sooner than a
# worker would, and those chunks fail with the reason instead.
INLINE_CLIENT_OPTIONS = {"rate_limit_wait_seconds": 30, "read_timeout": 30}
INLINE_JOB_WAIT_SECONDS = 30
SENT_BUT_UNREAD = "Sent to Zendesk, but the job stopped before the result was read"


def job_create(
    *,
    tool: BaseTool,
    user: AbstractBaseUser,
    params: dict,
    expected_tickets: int | None = None,
    retry_of: Job | None = None,
) -> Job:
    job = Job.objects.create(
        tool=tool.get_row(),
        created_by=user,
        params=params,
        dry_run=bool(params.get("dry_run")),
        estimated_total=expected_tickets,
        retry_of=retry_of,
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
    expected_tickets: int,
    retry_of: Job | None = None,
) -> Job:
    """Create a job and run it: in this process when it looks small enough,
    otherwise on a worker. An inline run that finds more tickets than the
    inline limit hands itself to a worker before changing anything."""
    job = job_create(
        tool=tool,
        user=user,
        params=params,
        expected_tickets=expected_tickets,
        retry_of=retry_of,
    )
    return _execute(tool, job, expected_tickets)


def _execute(tool: BaseTool, job: Job, expected_tickets: int) -> Job:
    inline_limit = tool.get_ticket_limit(async_mode=False)
    if expected_tickets <= inline_limit or not tool.supports_async():
        tool.execute(job)
    else:
        tool.execute_async(job)

    job.refresh_from_db()
    return job


def new_rq_job_id(job_pk: int) -> str:
    return f"tagmanager-job-{job_pk}-{uuid.uuid4().hex[:8]}"


def put_on_queue(job_pk: int, rq_job_id: str) -> None:
    """Hand a queued job to RQ. Only the job's database id travels through
    Redis; the worker reads everything else from the database."""
    queue = django_rq.get_queue("default")
    queue.enqueue(
        "jobs.tasks.run_job",
        job_pk,
        job_id=rq_job_id,
        job_timeout=settings.RQ_JOB_TIMEOUT,
        description=f"Tag Manager job {job_pk}",
    )


def job_enqueue(*, job: Job) -> None:
    rq_job_id = new_rq_job_id(job.pk)
    Job.objects.filter(pk=job.pk).update(rq_job_id=rq_job_id, queued_at=timezone.now())
    job.rq_job_id = rq_job_id

    try:
        put_on_queue(job.pk, rq_job_id)
    except (RedisError, ValueError) as error:
        # ValueError: a REDIS_URL redis-py cannot read.
        logger.error("Job %s could not be queued: %s", job.pk, error)
        message = (
            "The job queue (Redis) could not be reached, so the job did not "
            "start and nothing was changed. Try again once it is back."
        )
        _end(job, Job.Status.FAILED, previous=Job.Status.QUEUED, error_message=message)
        return
    logger.info("Job %s queued as %s", job.pk, rq_job_id)


def job_resume(*, job: Job) -> bool:
    """Queue a failed job again, to go on from where it stopped: its failed
    tickets are reopened and the rest keep their outcomes. Returns False if
    the job had not failed.

    This is for a job stopped by a fault (credentials refused, Zendesk
    unreachable) once the fault is fixed. Its progress restarts from the
    tickets still to do, so the counts may go down at that moment."""
    with transaction.atomic():
        moved = Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
            status=Job.Status.QUEUED,
            error_message="",
            finished_at=None,
            resumed_count=F("resumed_count") + 1,
        )
        if not moved:
            return False
        if job.dry_run:
            # A dry run is only its list of tickets: take it again whole.
            job.results.all().delete()
            fields = {**_counts_from_rows(job), "phase": Job.Phase.COLLECTING}
        else:
            _reopen_failed_results(job)
            fields = _counts_from_rows(job)
        Job.objects.filter(pk=job.pk).update(**fields)

    logger.info("Job %s resumed by request", job.pk)
    job_enqueue(job=job)
    return True


def _reopen_failed_results(job: Job) -> None:
    """Make a failed job's failed tickets pending again. Only those whose
    result was never read keep their Zendesk job, to be read first; the
    others are sent again."""
    failed = job.results.filter(outcome=TicketResult.Outcome.FAILED)
    unread = Q(error__startswith=SENT_BUT_UNREAD)
    failed.filter(unread).update(outcome=TicketResult.Outcome.PENDING, error="")
    failed.exclude(unread).update(
        outcome=TicketResult.Outcome.PENDING, error="", zendesk_job_id=""
    )


def job_run(
    *, job_id: int, inline_limit: int | None = None, raise_unexpected: bool = True
) -> None:
    """Run a queued job to its end, or on from where an earlier run stopped.
    A job that another process has already claimed, or that is no longer
    queued, is left alone.

    With `inline_limit`, a job that turns out to hold more tickets is handed
    to a worker instead. An unexpected error marks the job failed and, unless
    told otherwise, is raised again so that RQ records it too. An interrupt
    (a worker's shutdown) gives the job back to the queue to be resumed."""
    claim = claim_job(job_id)
    if claim is None:
        logger.warning("Job %s is not queued any more; not running it", job_id)
        return

    job = Job.objects.select_related("tool").get(pk=job_id)
    logger.info("Job %s running (%s)", job_id, job.get_phase_display().lower())
    with Heartbeat(claim) as heartbeat:
        _run_claimed(job, claim, heartbeat, inline_limit, raise_unexpected)


def _run_claimed(
    job: Job,
    claim: Claim,
    heartbeat: Heartbeat,
    inline_limit: int | None,
    raise_unexpected: bool,
) -> None:
    try:
        _run_engine(job, claim, heartbeat, inline_limit)
    except ClaimLost:
        logger.warning("Job %s: another process took the job over; stopping", job.pk)
    except JobCancelled:
        _stop_cancelled(job, claim)
    except InlineLimitExceeded:
        _hand_to_worker(job, claim, inline_limit)
    except ToolError as error:
        _fail(job, claim, str(error))
    except AuthenticationError as error:
        _fail(job, claim, f"Zendesk refused the configured credentials ({error}).")
    except ZendeskError as error:
        message = f"Zendesk could not be reached or answered an error: {error}"
        _fail(job, claim, message)
    except Exception:
        logger.exception("Job %s stopped on an unexpected error", job.pk)
        _fail(job, claim, "The job stopped on an unexpected error; see the worker log.")
        if raise_unexpected:
            raise
    except BaseException as error:
        # A shutdown, not a fault of the job: it resumes where it stopped.
        release_job(claim, f"the run was interrupted ({type(error).__name__})")
        raise
    else:
        _finish(job, claim)


def _run_engine(
    job: Job, claim: Claim, heartbeat: Heartbeat, inline_limit: int | None
) -> None:
    tool = get_tool(job.tool.slug)
    inline = inline_limit is not None
    client = ZendeskClient.from_settings(**(INLINE_CLIENT_OPTIONS if inline else {}))
    engine = JobEngine(
        job,
        tool,
        client,
        claim=claim,
        heartbeat=heartbeat,
        max_tickets=inline_limit,
        job_wait_seconds=INLINE_JOB_WAIT_SECONDS if inline else None,
    )
    engine.run()


def _hand_to_worker(job: Job, claim: Claim, inline_limit: int | None) -> None:
    """Put a job that started inline back in the queue, as if new."""
    with transaction.atomic():
        handed_back = owned(claim).update(
            claim_token="",
            heartbeat_at=None,
            status=Job.Status.QUEUED,
            phase=Job.Phase.COLLECTING,
            started_at=None,
            total=0,
            processed=0,
            unchanged=0,
            failed=0,
            not_applicable=0,
        )
        if not handed_back:
            return
        job.results.all().delete()
    logger.info(
        "Job %s holds more than %s tickets; handing it to a worker",
        job.pk,
        inline_limit,
    )
    job_enqueue(job=job)


def _finish(job: Job, claim: Claim) -> None:
    """End a run that got through every ticket. Counts come from the rows,
    and a ticket somehow left pending is failed with a reason, so the job
    never reports success over a ticket without an outcome."""
    with transaction.atomic():
        if not owned(claim).select_for_update().exists():
            logger.warning("Job %s: not ending it, another process has it", job.pk)
            return
        left_open = job.results.filter(outcome=TicketResult.Outcome.PENDING)
        if left_open.update(
            outcome=TicketResult.Outcome.FAILED,
            error="The job ended without an answer for this ticket.",
        ):
            logger.error("Job %s ended with tickets still pending", job.pk)
        counts = _counts_from_rows(job)
        # A dry run's failures are predictions; the dry run itself succeeded.
        with_errors = counts["failed"] and not job.dry_run
        status = (
            Job.Status.COMPLETED_WITH_ERRORS if with_errors else Job.Status.SUCCEEDED
        )
        _end(job, status, claim_token=claim.token, **counts)


def _fail(job: Job, claim: Claim, message: str) -> None:
    """End the job failed, giving every ticket still open an outcome that
    says why. The phase it stopped in is kept, so that resuming it knows
    whether its list of tickets is whole."""
    _close_and_end(
        job, claim, Job.Status.FAILED, phase=job.phase, error_message=message
    )


def _close_and_end(
    job: Job, claim: Claim, status: str, *, cancelled: bool = False, **fields
) -> None:
    """End a job this run holds, closing its open tickets and recounting from
    the rows, so that the counts add up however far the job got."""
    with transaction.atomic():
        if not owned(claim).select_for_update().exists():
            logger.warning("Job %s: not ending it, another process has it", job.pk)
            return
        _close_open_results(job, cancelled=cancelled)
        counts = _counts_from_rows(job)
        _end(job, status, claim_token=claim.token, **fields, **counts)


def _close_open_results(job: Job, *, cancelled: bool = False) -> None:
    """Give every ticket still pending an outcome. One that was never sent is
    failed, or marked cancelled when that is why the job stopped."""
    Outcome = TicketResult.Outcome
    open_results = job.results.filter(outcome=Outcome.PENDING)
    open_results.exclude(zendesk_job_id="").update(
        outcome=Outcome.FAILED,
        error=(f"{SENT_BUT_UNREAD}: the ticket may or may not have changed."),
    )
    if cancelled:
        open_results.filter(zendesk_job_id="").update(
            outcome=Outcome.CANCELLED, error="Not changed: the job was cancelled."
        )
    else:
        open_results.filter(zendesk_job_id="").update(
            outcome=Outcome.FAILED,
            error="Not changed: the job stopped before Zendesk accepted this update.",
        )


def job_cancel(*, job: Job) -> bool:
    """Cancel a job. A queued one ends at once and is taken off the queue, so
    it makes no Zendesk call; a running one stops before its next chunk.
    Returns False if the job had already ended."""
    # A job can move between queued and running meanwhile (claimed, or given
    # back by a stopping worker): try again while it has not ended.
    for _ in range(3):
        if _cancel_if_queued(job):
            logger.info("Job %s cancelled while queued", job.pk)
            _take_off_queue(job)
            return True
        running = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING)
        if running.update(cancel_requested=True):
            logger.info(
                "Job %s: cancel requested; it stops before its next chunk", job.pk
            )
            return True
        if Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).exists():
            return False
    return False


def _cancel_if_queued(job: Job) -> bool:
    with transaction.atomic():
        ended = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.CANCELLED,
            cancel_requested=True,
            phase=Job.Phase.DONE,
            finished_at=timezone.now(),
        )
        if ended:
            # A job resumed after a crash already has its list of tickets.
            _close_open_results(job, cancelled=True)
            Job.objects.filter(pk=job.pk).update(**_counts_from_rows(job))
    return bool(ended)


def _take_off_queue(job: Job) -> None:
    """Remove a cancelled job from Redis. If that fails it does no harm: a
    worker that picks it up finds it no longer queued and leaves it."""
    job.refresh_from_db(fields=["rq_job_id"])
    if not job.rq_job_id:
        return
    try:
        django_rq.get_queue("default").remove(job.rq_job_id)
    except (RedisError, ValueError) as error:
        logger.warning(
            "Job %s stays in Redis until a worker skips it: %s", job.pk, error
        )


def _stop_cancelled(job: Job, claim: Claim) -> None:
    _close_and_end(job, claim, Job.Status.CANCELLED, cancelled=True)


def _counts_from_rows(job: Job) -> dict[str, int]:
    Outcome = TicketResult.Outcome
    by_outcome = dict(
        job.results.values_list("outcome").annotate(n=Count("id")).order_by()
    )
    counts = {
        "succeeded": by_outcome.get(Outcome.UPDATED, 0),
        "unchanged": by_outcome.get(Outcome.UNCHANGED, 0),
        "failed": by_outcome.get(Outcome.FAILED, 0),
        "not_applicable": by_outcome.get(Outcome.NOT_APPLICABLE, 0),
    }
    done = sum(counts.values()) + by_outcome.get(Outcome.WOULD_CHANGE, 0)
    return counts | {"total": sum(by_outcome.values()), "processed": done}


def _end(
    job: Job,
    status: str,
    *,
    previous: str = Job.Status.RUNNING,
    claim_token: str | None = None,
    **fields,
) -> None:
    """Mark the job ended, if it is still in the `previous` state (and still
    held by `claim_token`, when given)."""
    still_ours = {"claim_token": claim_token} if claim_token is not None else {}
    Job.objects.filter(pk=job.pk, status=previous, **still_ours).update(
        **{"phase": Job.Phase.DONE, **fields},
        status=status,
        finished_at=timezone.now(),
        heartbeat_at=None,
    )
    job.refresh_from_db()
    mirror_progress(job.pk)
    # The run has changed what the views hold; their cached counts are stale.
    forget_active_views()
    logger.info(
        "Job %s ended %s: %d processed of %d, %d updated, %d unchanged, "
        "%d failed, %d not applicable",
        job.pk,
        job.status,
        job.processed,
        job.total,
        job.succeeded,
        job.unchanged,
        job.failed,
        job.not_applicable,
    )


class JobRefused(Exception):
    """A retry or re-run that cannot start; the message says why, for people."""


def job_retry(*, job: Job, user: AbstractBaseUser) -> Job:
    """Start a new job, linked to `job`, over only the tickets that failed in
    it, with the same change. Raises JobRefused when there is nothing to
    retry."""
    _check_can_follow(job, user, verb="retry")
    failed_ids = failed_ticket_ids(job)
    if job.dry_run:
        raise JobRefused(
            f"Job {job.pk} was a dry run and changed nothing; start a real run "
            "from the tool instead."
        )
    if not failed_ids:
        raise JobRefused(f"Job {job.pk} has no failed tickets to retry.")

    tool = get_tool(job.tool.slug)
    count = len(failed_ids)
    noun = "ticket" if count == 1 else "tickets"
    source = {
        "type": "tickets",
        "ids": failed_ids,
        "title": f"retry of job {job.pk}: {count:,} failed {noun}",
    }
    params = {
        **_following(job),
        "source": source,
        "limit": count,
    }
    with transaction.atomic():
        # Two clicks at once must not start two retries of the same tickets:
        # the second waits for the first to be created, then sees it.
        Job.objects.select_for_update().filter(pk=job.pk).first()
        _refuse_if_retrying(job)
        retry = job_create(
            tool=tool, user=user, params=params, expected_tickets=count, retry_of=job
        )
    logger.info("Job %s: retrying its %d failed tickets, for %s", job.pk, count, user)
    return _execute(tool, retry, count)


def _refuse_if_retrying(job: Job) -> None:
    running = job.retries.exclude(status__in=Job.FINISHED).first()
    if running is not None:
        raise JobRefused(
            f"Job {running.pk} is already retrying job {job.pk}; wait for it to "
            "end, then retry what still failed."
        )


def job_rerun(*, job: Job, user: AbstractBaseUser) -> Job:
    """Start a new job with the same parameters as `job`."""
    _check_can_follow(job, user, verb="re-run")

    tool = get_tool(job.tool.slug)
    expected = job.total or job.estimated_total or job.params.get("limit", 0)
    logger.info("Job %s: re-running it with the same parameters, for %s", job.pk, user)
    return job_start(
        tool=tool, user=user, params=_following(job), expected_tickets=expected
    )


def _following(job: Job) -> dict:
    """The parameters of a job that follows `job` (a retry or a re-run).

    They name when the first job of the chain was created: a tool that must
    not make a change twice (a macro's comment) then leaves alone the
    tickets an earlier job changed, even ones whose update Zendesk carried
    out after the job had recorded them failed."""
    first_created = job.params.get(ATTEMPTS_SINCE) or job.created_at.isoformat()
    return {**job.params, ATTEMPTS_SINCE: first_created}


def failed_ticket_ids(job: Job) -> list[int]:
    failed = job.results.filter(outcome=TicketResult.Outcome.FAILED).order_by("id")
    return list(failed.values_list("ticket_id", flat=True))


def _check_can_follow(job: Job, user: AbstractBaseUser, *, verb: str) -> None:
    """Refuse to start a follow-up of a job still under way, or with a tool
    the user may not use (switched off, or admin-only)."""
    job.refresh_from_db(fields=["status"])
    if not job.is_finished:
        raise JobRefused(
            f"Job {job.pk} is {job.get_status_display().lower()}; "
            f"{verb} it once it has ended."
        )
    tool = get_tool(job.tool.slug)
    if not can_use_tool(user, tool):
        raise JobRefused(f"The {tool.name} is switched off or not available to you.")
