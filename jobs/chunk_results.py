"""Reading what Zendesk says happened to a chunk of tickets.

A Zendesk job's per-ticket results are the first source. Where they are
missing (the job failed, was killed, never finished, its status vanished or
could not be read), the tickets themselves are looked at: a ticket already in
the wanted state counts as updated, whoever changed it. Only what neither
source confirms is a failure, with the reason.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from tools.base import BaseTool
from zendesk import AuthenticationError, ZendeskClient, ZendeskError


@dataclass
class ChunkOutcome:
    updated: list[int] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)


def outcome_from_job_status(
    ticket_ids: list[int], job_status: dict
) -> tuple[ChunkOutcome, list[int]]:
    """Outcomes Zendesk reported, and the ids it reported nothing about."""
    entries = {entry.get("id"): entry for entry in job_status.get("results") or []}
    outcome = ChunkOutcome()
    unreported: list[int] = []

    for ticket_id in ticket_ids:
        entry = entries.get(ticket_id)
        if entry is None:
            unreported.append(ticket_id)
        elif entry.get("success"):
            outcome.updated.append(ticket_id)
        else:
            outcome.failures[ticket_id] = _entry_error(entry)
    return outcome, unreported


def outcome_from_tickets(
    *,
    client: ZendeskClient,
    tool: BaseTool,
    params: dict,
    ticket_ids: list[int],
    changes: dict[int, dict],
    since: datetime,
    reason: str,
) -> ChunkOutcome:
    """Look at the tickets Zendesk's job said nothing about."""
    outcome = ChunkOutcome()
    try:
        applied = tool.find_applied(
            client, ticket_ids, params, changes=changes, since=since
        )
    except AuthenticationError:
        raise
    except ZendeskError as error:
        failure = f"{reason}; reading the ticket failed too: {error}"
        outcome.failures = dict.fromkeys(ticket_ids, failure)
        return outcome

    for ticket_id in ticket_ids:
        carried = applied.get(ticket_id)
        if carried is None:
            outcome.failures[ticket_id] = f"{reason}; the ticket was not found"
        elif carried:
            outcome.updated.append(ticket_id)
        else:
            outcome.failures[ticket_id] = reason
    return outcome


def missing_result_reason(job_status: dict) -> str:
    job = f"Zendesk job {job_status['id']}"
    state = job_status["status"]
    if state == "completed":
        return f"{job} reported no result for this ticket"
    if state == "timed_out":
        waited = job_status.get("waited", settings.ZENDESK_JOB_WAIT_SECONDS)
        return f"{job} did not finish within {waited:g} s"
    if state == "vanished":
        return f"{job}'s status has expired or vanished"
    if state == "unreadable":
        return f"{job}'s status could not be read: {job_status.get('message')}"
    message = job_status.get("message") or "no message"
    return f"{job} ended {state}: {message}"


def _entry_error(entry: dict) -> str:
    parts = [str(entry[key]) for key in ("error", "details") if entry.get(key)]
    return ": ".join(parts) or f"Zendesk reported a failure: {entry}"
