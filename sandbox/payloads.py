"""The JSON shapes the sandbox answers with, following Zendesk's."""

from datetime import UTC, datetime

from django.http import HttpRequest
from django.urls import reverse

from .bulk import FAILED_JOB_MESSAGE, job_state
from .models import JobStatus, Macro, Ticket, View


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _url(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(f"sandbox:{name}", args=args))


def ticket_payload(request: HttpRequest, ticket: Ticket) -> dict:
    return {
        "id": ticket.pk,
        "url": _url(request, "ticket", ticket.pk),
        "subject": ticket.subject,
        "status": ticket.status,
        "tags": ticket.tag_list,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }


def view_payload(request: HttpRequest, view: View) -> dict:
    return {
        "id": view.pk,
        "url": _url(request, "view", view.pk),
        "title": view.title,
        "active": view.active,
        "position": view.position,
        "conditions": {
            "all": view.conditions.get("all", []),
            "any": view.conditions.get("any", []),
        },
        "created_at": iso(view.created_at),
        "updated_at": iso(view.updated_at),
    }


def macro_payload(request: HttpRequest, macro: Macro) -> dict:
    return {
        "id": macro.pk,
        "url": _url(request, "macro", macro.pk),
        "title": macro.title,
        "active": macro.active,
        "description": macro.description,
        "position": macro.position,
        "actions": macro.actions,
        # Zendesk's restriction limits a macro to groups or users; the
        # sandbox's macros are shared with everyone.
        "restriction": None,
        "created_at": iso(macro.created_at),
        "updated_at": iso(macro.updated_at),
    }


def view_count_payload(request: HttpRequest, view: View, value: int) -> dict:
    return {
        "view_id": view.pk,
        "url": _url(request, "view_count", view.pk),
        "value": value,
        "pretty": f"{value:,}",
        "fresh": True,
    }


def job_status_payload(request: HttpRequest, job: JobStatus, now: datetime) -> dict:
    status, progress = job_state(job, now)
    completed = status == "completed"
    return {
        "id": job.id,
        "url": _url(request, "job_status", job.id),
        "job_type": job.job_type,
        "status": status,
        "progress": progress,
        "total": job.total,
        "message": _job_message(job, status),
        "results": job.results if completed else None,
    }


def _job_message(job: JobStatus, status: str) -> str | None:
    if status == "completed":
        return f"Completed at {iso(job.ready_at)}"
    if status == "failed":
        return FAILED_JOB_MESSAGE
    return None
