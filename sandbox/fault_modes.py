"""Standing faults, so that each way Zendesk misbehaves can be reproduced by
configuration: a 429 storm, a 5xx rate, slow answers, bulk jobs that fail,
stay queued or vanish, a full job queue, and tickets failing inside a job.

All are off by default. The SANDBOX_FAULT_* settings hold the standing modes;
a FaultModes row saved in the admin replaces them at run time, without a
restart, until it is deleted. Only one source is in force at a time, so what
the sandbox does is never a mix of the two.

Which call, job or ticket a fraction hits is not random: it is drawn from a
hash of the seed with the call's number in the request log, the job's number,
or the ticket's id. A test, or a bug report, can say exactly which ones fail.
Calls and jobs are numbered in the order the sandbox receives them, so the
draws repeat exactly for a client that sends one call at a time.
"""

import hashlib
import logging
import time
from dataclasses import dataclass, fields
from datetime import datetime

from django.conf import settings
from django.http import HttpResponse

from .models import FaultModes, JobStatus, RequestLog
from .responses import status_error, too_many_requests

logger = logging.getLogger(__name__)

SERVER_ERRORS = (500, 502, 503)

Fate = JobStatus.Fate


@dataclass(frozen=True)
class Modes:
    throttle_rate: float = 0.0
    retry_after_seconds: int = 10
    server_error_rate: float = 0.0
    delay_seconds: float = 0.0
    delay_paths: tuple[str, ...] = ()
    job_fail_rate: float = 0.0
    job_stuck_rate: float = 0.0
    job_vanish_rate: float = 0.0
    too_many_jobs: bool = False
    ticket_fail_rate: float = 0.0
    seed: int = 0
    active_until: datetime | None = None

    def hits(self, kind: str, key: object, rate: float) -> bool:
        return hits(self.seed, kind, key, rate)

    def job_fate(self, job_number: int) -> str:
        """How the n-th update_many job ends; the first matching mode wins."""
        chances = (
            (Fate.FAILED, "job_fail", self.job_fail_rate),
            (Fate.STUCK, "job_stuck", self.job_stuck_rate),
            (Fate.VANISHED, "job_vanish", self.job_vanish_rate),
        )
        for fate, kind, rate in chances:
            if self.hits(kind, job_number, rate):
                return fate
        return Fate.COMPLETED

    def ticket_fails(self, ticket_id: int) -> bool:
        # Keyed by the ticket alone: a ticket sent again fails again.
        return self.hits("ticket_fail", ticket_id, self.ticket_fail_rate)


OFF = Modes()

# Every mode but the time limit, which only makes sense at run time.
SETTING_FIELDS = tuple(f.name for f in fields(Modes) if f.name != "active_until")


def draw(seed: int, kind: str, key: object) -> float:
    """A number in [0, 1) fixed by its arguments."""
    digest = hashlib.sha256(f"{seed}:{kind}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hits(seed: int, kind: str, key: object, rate: float) -> bool:
    if rate <= 0:
        return False
    return rate >= 1 or draw(seed, kind, key) < rate


def current_modes(now: datetime) -> Modes:
    """The modes in force: the saved row if any, else the settings."""
    row = FaultModes.objects.filter(pk=1).first()
    modes = _from_row(row) if row is not None else modes_from_settings()
    if modes.active_until is not None and now >= modes.active_until:
        return OFF
    return modes


def modes_from_settings() -> Modes:
    values = {
        name: getattr(settings, f"SANDBOX_FAULT_{name.upper()}")
        for name in SETTING_FIELDS
    }
    return Modes(**(values | {"delay_paths": tuple(values["delay_paths"])}))


def _from_row(row: FaultModes) -> Modes:
    values = {f.name: getattr(row, f.name) for f in fields(Modes)}
    paths = tuple(part.strip() for part in row.delay_paths.split(",") if part.strip())
    return Modes(**(values | {"delay_paths": paths}))


def row_initial_from_settings() -> dict:
    """The settings, as a new row's starting values in the admin."""
    modes = modes_from_settings()
    initial = {name: getattr(modes, name) for name in SETTING_FIELDS}
    return initial | {"delay_paths": ", ".join(modes.delay_paths)}


def forced_response(modes: Modes, path: str) -> HttpResponse | None:
    """The 429 or 5xx the modes call for on this request, or None."""
    if not (modes.throttle_rate or modes.server_error_rate):
        return None

    # This call's number as the request log will count it.
    number = RequestLog.objects.count() + 1
    if modes.hits("throttle", number, modes.throttle_rate):
        logger.info("sandbox fault mode: 429 for call %d, %s", number, path)
        return too_many_requests(modes.retry_after_seconds)
    if modes.hits("server_error", number, modes.server_error_rate):
        status = server_error_status(modes.seed, number)
        logger.info("sandbox fault mode: %d for call %d, %s", status, number, path)
        return status_error(status)
    return None


def server_error_status(seed: int, number: int) -> int:
    index = int(draw(seed, "server_error_status", number) * len(SERVER_ERRORS))
    return SERVER_ERRORS[index]


def delay_answer(modes: Modes, path: str) -> None:
    """Hold the answer back; the work behind it is already done, so a client
    that gives up waiting has lost an answer, not a change."""
    if modes.delay_seconds <= 0:
        return
    if modes.delay_paths and not any(part in path for part in modes.delay_paths):
        return
    time.sleep(modes.delay_seconds)
