"""Zendesk's URLs under /sandbox/; each answers with and without ".json"."""

from django.urls import path

from . import macro_views, search_views, views

app_name = "sandbox"


def api(route: str, view, name: str) -> list:
    """Both spellings of one endpoint; reverse() gives the ".json" one."""
    return [
        path(f"{route}.json", view, name=name),
        path(route, view),
    ]


urlpatterns = [
    *api("api/v2/users/me", views.current_user, "current_user"),
    *api("api/v2/views/active", views.active_views, "active_views"),
    *api("api/v2/views/<int:view_id>", views.view_detail, "view"),
    *api("api/v2/views/<int:view_id>/count", views.view_count, "view_count"),
    *api("api/v2/views/<int:view_id>/tickets", views.view_tickets, "view_tickets"),
    *api("api/v2/macros", macro_views.macros, "macros"),
    *api("api/v2/macros/active", macro_views.active_macros, "active_macros"),
    *api("api/v2/macros/<int:macro_id>", macro_views.macro_detail, "macro"),
    *api(
        "api/v2/macros/<int:macro_id>/apply",
        macro_views.macro_apply,
        "macro_apply",
    ),
    *api(
        "api/v2/tickets/<int:ticket_id>/macros/<int:macro_id>/apply",
        macro_views.ticket_macro_apply,
        "ticket_macro_apply",
    ),
    *api("api/v2/tickets/show_many", views.tickets_show_many, "tickets_show_many"),
    *api(
        "api/v2/tickets/update_many",
        views.tickets_update_many,
        "tickets_update_many",
    ),
    *api("api/v2/tickets/<int:ticket_id>", views.ticket_detail, "ticket"),
    *api(
        "api/v2/tickets/<int:ticket_id>/tags",
        views.ticket_tags_add,
        "ticket_tags",
    ),
    *api(
        "api/v2/tickets/<int:ticket_id>/comments",
        views.ticket_comments,
        "ticket_comments",
    ),
    *api(
        "api/v2/tickets/<int:ticket_id>/audits",
        views.ticket_audits,
        "ticket_audits",
    ),
    *api("api/v2/groups", views.groups, "groups"),
    *api("api/v2/groups/<int:group_id>", views.group_detail, "group"),
    *api("api/v2/ticket_fields", views.ticket_fields, "ticket_fields"),
    *api(
        "api/v2/ticket_fields/<int:field_id>",
        views.ticket_field_detail,
        "ticket_field",
    ),
    *api(
        "api/v2/job_statuses/show_many",
        views.job_statuses_show_many,
        "job_statuses_show_many",
    ),
    *api("api/v2/job_statuses/<slug:job_id>", views.job_status_detail, "job_status"),
    *api("api/v2/search/export", search_views.search_export, "search_export"),
    *api("api/v2/search/count", search_views.search_count, "search_count"),
]
