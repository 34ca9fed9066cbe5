"""The JSON shapes the sandbox answers with, following Zendesk's."""

from datetime import UTC, datetime

from django.http import HttpRequest
from django.urls import reverse

from .bulk import FAILED_JOB_MESSAGE, job_state
from .models import (
    Comment,
    Group,
    JobStatus,
    Macro,
    Ticket,
    TicketAudit,
    TicketField,
    View,
)


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
        "priority": ticket.priority or None,
        "type": ticket.type or None,
        "group_id": ticket.group_id,
        "assignee_id": ticket.assignee_id,
        "requester_id": ticket.requester_id,
        "tags": ticket.tag_list,
        # Zendesk sends the same list twice, under both names.
        "custom_fields": custom_field_list(ticket),
        "fields": custom_field_list(ticket),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }


def custom_field_list(ticket: Ticket) -> list[dict]:
    return [
        {"id": int(field_id), "value": value}
        for field_id, value in sorted(
            ticket.custom_fields.items(), key=lambda item: int(item[0])
        )
    ]


def comment_payload(comment: Comment) -> dict:
    return {
        "id": comment.pk,
        "type": "Comment",
        "author_id": comment.author_id,
        "body": comment.body,
        "html_body": comment.html_body,
        "plain_body": comment.body,
        "public": comment.public,
        "created_at": iso(comment.created_at),
    }


def audit_payload(audit: TicketAudit) -> dict:
    return {
        "id": audit.pk,
        "ticket_id": audit.ticket_id,
        "author_id": audit.author_id,
        "created_at": iso(audit.created_at),
        "metadata": {"system": {}, "custom": {}},
        "via": {"channel": "api"},
        # Zendesk notes each macro the update named as an event of its own.
        "events": audit.events
        + [
            {"type": "AgentMacroReference", "macro_id": macro_id}
            for macro_id in audit.macro_ids
        ],
    }


def group_payload(request: HttpRequest, group: Group) -> dict:
    return {
        "id": group.pk,
        "url": _url(request, "group", group.pk),
        "name": group.name,
        "created_at": iso(group.created_at),
    }


def ticket_field_payload(request: HttpRequest, field: TicketField) -> dict:
    payload = {
        "id": field.pk,
        "url": _url(request, "ticket_field", field.pk),
        "type": field.type,
        "title": field.title,
        "active": field.active,
        "position": field.position,
        "required": False,
        "removable": True,
    }
    if field.type == TicketField.Type.TAGGER:
        payload["custom_field_options"] = field.custom_field_options
    return payload


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
