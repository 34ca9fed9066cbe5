"""The sandbox's Zendesk API endpoints.

Authentication, rate limiting, fault injection and the request log happen in
gateway.api_endpoint; these functions only do the endpoint's own work.
"""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from . import bulk
from .conditions import UnsupportedCondition, conditions_q
from .gateway import api_endpoint
from .models import Group, JobStatus, Ticket, TicketAudit, TicketField, View
from .pagination import cursor_page, is_whole_number, offset_listing
from .payloads import (
    audit_payload,
    comment_payload,
    group_payload,
    job_status_payload,
    ticket_field_payload,
    ticket_payload,
    view_count_payload,
    view_payload,
)
from .responses import ApiError
from .seed_account import API_USER_ID
from .shortcuts import get_or_404, json_body
from .tags import normalise_tags, tags_to_text
from .ticket_changes import TagChanges

MAX_IDS = 100


@api_endpoint("GET")
def active_views(request: HttpRequest) -> JsonResponse:
    views = View.objects.filter(active=True).order_by("position", "id")
    return JsonResponse(offset_listing(request, views, "views", view_payload))


@api_endpoint("GET")
def view_detail(request: HttpRequest, view_id: int) -> JsonResponse:
    view = get_or_404(View.objects, view_id)
    return JsonResponse({"view": view_payload(request, view)})


@api_endpoint("GET")
def view_count(request: HttpRequest, view_id: int) -> JsonResponse:
    view = get_or_404(View.objects, view_id)
    value = _view_tickets(view).count()
    return JsonResponse({"view_count": view_count_payload(request, view, value)})


@api_endpoint("GET")
def view_tickets(request: HttpRequest, view_id: int) -> JsonResponse:
    view = get_or_404(View.objects, view_id)
    page = cursor_page(request, _view_tickets(view))

    return JsonResponse(
        {
            "tickets": [ticket_payload(request, ticket) for ticket in page.rows],
            "meta": page.meta(),
            "links": page.links(request),
        }
    )


@api_endpoint("GET")
def ticket_detail(request: HttpRequest, ticket_id: int) -> JsonResponse:
    ticket = get_or_404(Ticket.objects, ticket_id)
    return JsonResponse({"ticket": ticket_payload(request, ticket)})


@api_endpoint("GET")
def ticket_comments(request: HttpRequest, ticket_id: int) -> JsonResponse:
    ticket = get_or_404(Ticket.objects, ticket_id)
    sort_order = request.GET.get("sort_order", "asc")
    if sort_order not in ("asc", "desc"):
        raise ApiError(400, "InvalidValue", "sort_order must be asc or desc")

    comments = ticket.comment_set.all()
    page = cursor_page(request, comments, descending=sort_order == "desc")
    return JsonResponse(
        {
            "comments": [comment_payload(comment) for comment in page.rows],
            "meta": page.meta(),
            "links": page.links(request),
        }
    )


@api_endpoint("GET")
def ticket_audits(request: HttpRequest, ticket_id: int) -> JsonResponse:
    ticket = get_or_404(Ticket.objects, ticket_id)
    page = cursor_page(request, TicketAudit.objects.filter(ticket=ticket))
    return JsonResponse(
        {
            "audits": [audit_payload(audit) for audit in page.rows],
            "meta": page.meta(),
            "links": page.links(request),
        }
    )


@api_endpoint("GET")
def tickets_show_many(request: HttpRequest) -> JsonResponse:
    ids = _ticket_ids(request)
    found = Ticket.objects.in_bulk(ids)
    tickets = [ticket_payload(request, found[pk]) for pk in ids if pk in found]
    return JsonResponse({"tickets": tickets})


@api_endpoint("PUT")
def tickets_update_many(request: HttpRequest) -> JsonResponse:
    """Both of Zendesk's forms: ?ids=... with one {"ticket": {...}}, or a
    {"tickets": [...]} batch that carries each ticket's id and no ?ids."""
    body = json_body(request)
    if isinstance(body, dict) and "tickets" in body and "ids" not in request.GET:
        updates = bulk.batch_updates(body)
    else:
        updates = bulk.bulk_updates(_ticket_ids(request), body)

    job = bulk.update_many(updates)

    now = timezone.now()
    response = JsonResponse({"job_status": job_status_payload(request, job, now)})
    response["zendesk-ratelimit-inflight-jobs"] = bulk.inflight_header(
        bulk.jobs_in_flight(now), now
    )
    return response


@api_endpoint("PUT")
def ticket_tags_add(request: HttpRequest, ticket_id: int) -> JsonResponse:
    """Zendesk's per-ticket tags call, where PUT adds tags. Scripts that tag
    one ticket at a time use it; it counts against the rate limit like any
    other call (Zendesk also caps single-ticket updates at 100 a minute)."""
    ticket = get_or_404(Ticket.objects, ticket_id)
    added = _tags_in_body(json_body(request))
    if ticket.status == Ticket.Status.CLOSED:
        raise ApiError(422, "RecordInvalid", bulk.CLOSED_DETAILS)

    current = ticket.tag_list
    new_tags = TagChanges(add=added).apply(current)
    if set(new_tags) != set(current):
        ticket.tags = tags_to_text(new_tags)
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["tags", "updated_at"])
    return JsonResponse({"tags": ticket.tag_list})


@api_endpoint("GET")
def groups(request: HttpRequest) -> JsonResponse:
    rows = Group.objects.order_by("id")
    return JsonResponse(offset_listing(request, rows, "groups", group_payload))


@api_endpoint("GET")
def group_detail(request: HttpRequest, group_id: int) -> JsonResponse:
    group = get_or_404(Group.objects, group_id)
    return JsonResponse({"group": group_payload(request, group)})


@api_endpoint("GET")
def ticket_fields(request: HttpRequest) -> JsonResponse:
    """Zendesk lists every field at once here, system fields too; the sandbox
    has custom fields only."""
    fields = TicketField.objects.order_by("position", "id")
    payloads = [ticket_field_payload(request, field) for field in fields]
    return JsonResponse({"ticket_fields": payloads, "count": len(payloads)})


@api_endpoint("GET")
def ticket_field_detail(request: HttpRequest, field_id: int) -> JsonResponse:
    field = get_or_404(TicketField.objects, field_id)
    return JsonResponse({"ticket_field": ticket_field_payload(request, field)})


@api_endpoint("GET")
def current_user(request: HttpRequest) -> JsonResponse:
    """Who the credentials belong to. The sandbox has one API user: the agent
    whose email it expects (an OAuth token stands for the same user)."""
    email = settings.ZENDESK_EMAIL or "sandbox-agent@example.com"
    return JsonResponse(
        {
            "user": {
                "id": API_USER_ID,
                "name": "Sandbox agent",
                "email": email,
                "role": "admin",
                "active": True,
            }
        }
    )


@api_endpoint("GET")
def job_status_detail(request: HttpRequest, job_id: str) -> JsonResponse:
    job = get_or_404(_reported_jobs(), job_id)
    payload = job_status_payload(request, job, timezone.now())
    return JsonResponse({"job_status": payload})


@api_endpoint("GET")
def job_statuses_show_many(request: HttpRequest) -> JsonResponse:
    ids = _id_list(request)
    found = _reported_jobs().in_bulk(ids)

    now = timezone.now()
    statuses = [job_status_payload(request, found[i], now) for i in ids if i in found]
    return JsonResponse({"job_statuses": statuses})


def _reported_jobs():
    # A vanished job did its work, but Zendesk no longer knows its status.
    return JobStatus.objects.exclude(fate=JobStatus.Fate.VANISHED)


def _view_tickets(view: View):
    try:
        return Ticket.objects.filter(conditions_q(view.conditions))
    except UnsupportedCondition as error:
        description = f"The sandbox cannot run this view: {error}"
        raise ApiError(422, "InvalidView", description) from error


def _id_list(request: HttpRequest) -> list[str]:
    """The ?ids= list, without repeats: 1 to 100 of them, as Zendesk allows."""
    raw = request.GET.get("ids", "")
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))

    if not ids:
        raise ApiError(400, "InvalidValue", "ids is required: ?ids=1,2,3")
    if len(ids) > MAX_IDS:
        raise ApiError(
            400, "InvalidValue", f"Too many ids: {len(ids)} given, at most {MAX_IDS}"
        )
    return ids


def _ticket_ids(request: HttpRequest) -> list[int]:
    ids = _id_list(request)
    bad = [part for part in ids if not is_whole_number(part)]
    if bad:
        raise ApiError(400, "InvalidValue", f"Ticket ids must be numbers: {bad[0]!r}")
    return list(dict.fromkeys(int(part) for part in ids))


def _tags_in_body(payload: object) -> list[str]:
    tags = payload.get("tags") if isinstance(payload, dict) else None
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ApiError(400, "InvalidValue", 'The body must be {"tags": [...]}')

    normalised = normalise_tags(tags)
    if not normalised:
        raise ApiError(400, "InvalidValue", "Give at least one tag")
    return normalised
