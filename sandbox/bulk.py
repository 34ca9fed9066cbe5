"""Bulk tag updates (update_many) and the job statuses they report.

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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from .fault_modes import Modes, current_modes
from .models import JobStatus, Ticket
from .responses import ApiError
from .routers import SANDBOX_DB
from .tags import normalise_tags, tags_to_text

logger = logging.getLogger(__name__)

TAG_FIELDS = ("tags", "additional_tags", "remove_tags")
CLOSED_DETAILS = "Status: closed prevents ticket update"
CONFLICT_DETAILS = "The ticket changed after the job was queued (safe update)"
FAILED_JOB_MESSAGE = "Sandbox fault mode: the job failed before changing any ticket"
# Names the lock on job slots among the sandbox database's advisory locks;
# any number no other code there uses would do.
JOB_SLOTS_LOCK_KEY = 0x5A4D_4A4F

Fate = JobStatus.Fate


@dataclass(frozen=True)
class TagChanges:
    replace: list[str] | None = None  # Zendesk's "tags": the whole new list
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)

    def apply(self, tags: list[str]) -> list[str]:
        result = list(self.replace) if self.replace is not None else list(tags)
        result += [tag for tag in self.add if tag not in result]
        return [tag for tag in result if tag not in self.remove]


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


def parse_changes(payload: object) -> TagChanges:
    """Read the bulk form, {"ticket": {...}}; the per-ticket form is not served."""
    ticket = payload.get("ticket") if isinstance(payload, dict) else None
    if not isinstance(ticket, dict):
        raise ApiError(400, "InvalidValue", 'The body must be {"ticket": {...}}')

    unknown = sorted(set(ticket) - set(TAG_FIELDS))
    if unknown:
        raise ApiError(400, "InvalidValue", f"Unsupported fields: {', '.join(unknown)}")
    if not ticket:
        raise ApiError(400, "InvalidValue", f"Send one of: {', '.join(TAG_FIELDS)}")

    replace = ticket.get("tags")
    return TagChanges(
        replace=None if replace is None else _tag_values(replace, "tags"),
        add=_tag_values(ticket.get("additional_tags", []), "additional_tags"),
        remove=_tag_values(ticket.get("remove_tags", []), "remove_tags"),
    )


def _tag_values(value: object, name: str) -> list[str]:
    if isinstance(value, str):
        return normalise_tags(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return normalise_tags(value)
    raise ApiError(400, "InvalidValue", f"{name} must be a list of strings")


def update_many(ticket_ids: list[int], changes: TagChanges) -> JobStatus:
    """Apply `changes` to the tickets now and record a job reporting the results."""
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
        results = _apply(ticket_ids, changes, now, modes) if changes_land else []
        job = JobStatus.objects.create(
            total=len(ticket_ids),
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


def _apply(
    ticket_ids: list[int], changes: TagChanges, now: datetime, modes: Modes
) -> list[dict]:
    tickets = Ticket.objects.in_bulk(ticket_ids)
    results, changed = [], []

    for ticket_id in ticket_ids:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            results.append(_failure(ticket_id, "RecordNotFound", "Ticket not found"))
            continue
        if ticket.status == Ticket.Status.CLOSED:
            results.append(_failure(ticket_id, "RecordInvalid", CLOSED_DETAILS))
            continue
        if modes.ticket_fails(ticket_id):
            results.append(_failure(ticket_id, "UpdateConflict", CONFLICT_DETAILS))
            continue

        current = ticket.tag_list
        new_tags = changes.apply(current)
        # Order carries no meaning in Zendesk; only a different set is a change.
        if set(new_tags) != set(current):
            ticket.tags = tags_to_text(new_tags)
            ticket.updated_at = now
            changed.append(ticket)
        results.append(_success(ticket_id))

    Ticket.objects.bulk_update(changed, ["tags", "updated_at"], batch_size=100)
    return results


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
