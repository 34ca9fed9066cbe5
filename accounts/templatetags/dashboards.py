"""The navbar's links to the queue dashboards."""

from django import template
from django.conf import settings

from accounts.roles import User, can_see_dashboards

register = template.Library()


@register.filter
def sees_dashboards(user: User) -> bool:
    return can_see_dashboards(user)


@register.simple_tag
def rq_dashboard_url() -> str:
    """rq-dashboard listens on this machine only (see rq_dashboard_app.py), so
    the link works from a browser on the same machine or through a tunnel."""
    return f"http://127.0.0.1:{settings.RQ_DASHBOARD_PORT}/"
