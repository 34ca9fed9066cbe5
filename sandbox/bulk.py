"""Bulk ticket updates (update_many) and the job statuses they report.

Design note: the sandbox applies an update_many's changes at once, inside the
request and in one transaction, and only *reports* the job on a timer. Its
status reads "queued" for the first half of SANDBOX_JOB_LATENCY_SECONDS after
creation, "working" with partial progress for the second half, then
"completed" with the per-ticket results. So a job's changes land whether or
not anyone polls. Real Zendesk applies them some time later instead; a client
must not depend on either order.

The fault modes (fault_modes.py) can refuse the job, fail some of its
tickets, or give it another fate: "failed" and "stuck" jobs change nothing,
a "vanished" one changes its tickets and is then forgotten.
"""

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from .fault_modes import Modes, current_modes
from .models import Comment, JobStatus, Ticket, TicketAudit
from .responses import ApiError
from .routers import SANDBOX_DB
from .seed_account import API_USER_ID
from .ticket_changes import (
    TicketChanges,
    apply_changes,
    invalid_value,
    is_stale,
    read_changes,
)

logger = logging.getLogger(__name__)

CLOSED_DETAILS = "Status: closed prevents ticket update"
CONFLICT_DETAILS = "The ticket changed after the job was queued (safe update)"
STALE_STAMP_DETAILS = "The ticket changed after updated_stamp (safe update)"
# Zendesk's limit for one update_many, in either form.
MAX_TICKETS_PER_JOB = 100
FAILED_JOB_MESSAGE = "Sandbox fault mode: the job failed before changing any ticket"
# Names the lock on job slots among the sandbox database's advisory locks;
# any number no other code there uses would do.
JOB_SLOTS_LOCK_KEY = 0x5A4D_4A4F

Fate = JobStatus.Fate


@dataclass(frozen=True)
class TicketUpdate:
    ticket_id: int
    changes: TicketChanges


class TooManyJobs(ApiError):
    def __init__(self, jobs: list[JobStatus], now: datetime) -> None:
        super().__init__(
            429,
            "TooManyJobs",
            "Too many jobs are queued or running for this account. "
            "Wait for some to finish and try again.",
        )
        self.jobs = jobs
        self.now = now

    def response(self) -> HttpResponse:
        body = {
            "error": self.error,
            "description": self.description,
            "current_job_ids": [job.id for job in self.jobs],
        }
        response = JsonResponse(body, status=self.status)
        response["Retry-After"] = str(max(1, _seconds_until_slot(self.jobs, self.now)))
        response["zendesk-ratelimit-inflight-jobs"] = inflight_header(
            self.jobs, self.now
        )
        return response


def bulk_updates(ticket_ids: list[int], payload: object) -> list[TicketUpdate]:
    """The bulk form: ?ids=... and one {"ticket": {...}} for all of them."""
    ticket = payload.get("ticket") if isinstance(payload, dict) else None
    if not isinstance(ticket, dict):
        raise ApiError(400, "InvalidValue", 'The body must be {"ticket": {...}}')

    changes = read_changes(ticket)
    return [TicketUpdate(ticket_id, changes) for ticket_id in ticket_ids]


def batch_updates(payload: dict) -> list[TicketUpdate]:
    """The batch form: {"tickets": [{"id": N, ...}, ...]}, a change each."""
    tickets = payload.get("tickets")
    if set(payload) != {"tickets"} or not isinstance(tickets, list) or not tickets:
        raise ApiError(400, "InvalidValue", 'The body must be {"tickets": [...]}')
    if len(tickets) > MAX_TICKETS_PER_JOB:
        raise ApiError(
            400,
            "InvalidValue",
            f"Too many tickets: {len(tickets)} given, at most {MAX_TICKETS_PER_JOB}",
        )

    updates = [_batch_entry(entry) for entry in tickets]
    ids = [update.ticket_id for update in updates]
    if len(set(ids)) != len(ids):
        raise ApiError(400, "InvalidValue", "Each ticket id may appear only once")
    return updates


def _batch_entry(entry: object) -> TicketUpdate:
    ticket_id = entry.get("id") if isinstance(entry, dict) else None
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise ApiError(400, "InvalidValue", "Every ticket needs a numeric id")
    fields = {name: value for name, value in entry.items() if name != "id"}
    return TicketUpdate(ticket_id, read_changes(fields))


def update_many(updates: list[TicketUpdate]) -> JobStatus:
    """Apply the updates now and record a job reporting the results."""
    now = timezone.now()
    latency = timedelta(seconds=settings.SANDBOX_JOB_LATENCY_SECONDS)
    modes = current_modes(now)

    with transaction.atomic(using=SANDBOX_DB):
        if modes.too_many_jobs:
            logger.info("sandbox fault mode: update_many refused, queue full")
            raise TooManyJobs(_phantom_jobs(modes, now), now)
        _lock_job_slots()
        jobs = jobs_in_flight(now)
        if len(jobs) >= settings.SANDBOX_MAX_QUEUED_JOBS:
            logger.info("sandbox refused a job: %d already in flight", len(jobs))
            raise TooManyJobs(jobs, now)

        fate = modes.job_fate(JobStatus.objects.count() + 1)
        changes_land = fate in (Fate.COMPLETED, Fate.VANISHED)
        results = _apply(updates, now, modes) if changes_land else []
        job = JobStatus.objects.create(
            total=len(updates),
            results=results,
            created_at=now,
            ready_at=now + latency,
            fate=fate,
        )

    failed = sum(1 for result in results if not result["success"])
    logger.info(
        "sandbox job %s created (%s): %d tickets, %d failed",
        job.id,
        fate,
        job.total,
        failed,
    )
    return job


def _phantom_jobs(modes: Modes, now: datetime) -> list[JobStatus]:
    """A full queue of made-up jobs, which free up when the modes end."""
    ready_at = modes.active_until or now + timedelta(seconds=modes.retry_after_seconds)
    return [
        JobStatus(id=f"sandboxfull{n:02d}", total=0, ready_at=ready_at)
        for n in range(settings.SANDBOX_MAX_QUEUED_JOBS)
    ]


def _lock_job_slots() -> None:
    """Let one request at a time count the jobs in flight and add one, until
    its transaction ends, so two requests cannot both take the last slot.

    SQLite needs nothing more: its IMMEDIATE transactions (see settings.py)
    admit one writer from BEGIN on. PostgreSQL's read-committed transactions
    would both count the same jobs, so there the requests queue on an
    advisory lock, which needs no table of its own.
    """
    connection = connections[SANDBOX_DB]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [JOB_SLOTS_LOCK_KEY])


def _apply(updates: list[TicketUpdate], now: datetime, modes: Modes) -> list[dict]:
    tickets = Ticket.objects.in_bulk([update.ticket_id for update in updates])
    results, saved = [], _Saved()

    for update in updates:
        ticket = tickets.get(update.ticket_id)
        failure = _failure_for(update, ticket, modes)
        if failure is not None:
            results.append(failure)
            continue
        saved.add(ticket, update.changes, now)
        results.append(_success(update.ticket_id))

    saved.write()
    return results


def _failure_for(
    update: TicketUpdate, ticket: Ticket | None, modes: Modes
) -> dict | None:
    ticket_id = update.ticket_id
    if ticket is None:
        return _failure(ticket_id, "RecordNotFound", "Ticket not found")
    if ticket.status == Ticket.Status.CLOSED:
        return _failure(ticket_id, "RecordInvalid", CLOSED_DETAILS)
    if modes.ticket_fails(ticket_id):
        return _failure(ticket_id, "UpdateConflict", CONFLICT_DETAILS)
    if is_stale(update.changes, ticket.updated_at):
        return _failure(ticket_id, "UpdateConflict", STALE_STAMP_DETAILS)
    invalid = invalid_value(update.changes)
    if invalid is not None:
        return _failure(ticket_id, "RecordInvalid", invalid)
    return None


class _Saved:
    """The rows one job writes, gathered so each table gets one bulk write."""

    def __init__(self) -> None:
        self.tickets: list[Ticket] = []
        self.fields: set[str] = set()
        self.comments: list[Comment] = []
        self.audits: list[TicketAudit] = []

    def add(self, ticket: Ticket, changes: TicketChanges, now: datetime) -> None:
        applied = apply_changes(ticket, changes, author_id=API_USER_ID, now=now)
        if applied.changed_fields or applied.comment:
            ticket.updated_at = now
            self.tickets.append(ticket)
            self.fields |= applied.changed_fields | {"updated_at"}
        if applied.comment:
            self.comments.append(applied.comment)
        audit = applied.audit(ticket, changes, API_USER_ID, now)
        if audit:
            self.audits.append(audit)

    def write(self) -> None:
        # Only the columns some ticket changed, so tag-only jobs stay cheap.
        if self.tickets:
            fields = sorted(self.fields)
            Ticket.objects.bulk_update(self.tickets, fields, batch_size=100)
        Comment.objects.bulk_create(self.comments)
        TicketAudit.objects.bulk_create(self.audits)


def _success(ticket_id: int) -> dict:
    return {"id": ticket_id, "action": "update", "status": "Updated", "success": True}


def _failure(ticket_id: int, error: str, details: str) -> dict:
    return {
        "id": ticket_id,
        "action": "update",
        "status": "Failed",
        "success": False,
        "error": error,
        "details": details,
    }


def jobs_in_flight(now: datetime) -> list[JobStatus]:
    """Jobs still reporting queued or working, the soonest to finish first."""
    return list(
        JobStatus.objects.filter(ready_at__gt=now)
        .order_by("ready_at")
        .only("id", "ready_at")
    )


def inflight_header(jobs: list[JobStatus], now: datetime) -> str:
    total = settings.SANDBOX_MAX_QUEUED_JOBS
    remaining = max(0, total - len(jobs))
    resets = _seconds_until_slot(jobs, now)
    return f"total={total}; remaining={remaining}; resets={resets}"


def _seconds_until_slot(jobs: list[JobStatus], now: datetime) -> int:
    if not jobs:
        return 0
    return math.ceil((jobs[0].ready_at - now).total_seconds())


def job_state(job: JobStatus, now: datetime) -> tuple[str, int]:
    """The (status, progress) a job reports at `now`; see the note at the top."""
    if job.fate == Fate.STUCK:
        return "queued", 0
    if now >= job.ready_at and job.fate == Fate.FAILED:
        return "failed", 0
    if now >= job.ready_at:
        return "completed", job.total

    duration = job.ready_at - job.created_at
    elapsed = now - job.created_at
    if elapsed * 2 < duration:
        return "queued", 0
    return "working", min(job.total - 1, int(job.total * (elapsed / duration)))
