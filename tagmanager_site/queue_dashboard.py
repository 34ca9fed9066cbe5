"""django-rq's dashboard, open to the people who watch the queues.

django-rq protects its pages with `staff_member_required`, which would let any
staff account in (supervisors too) and send everyone else to the admin's own
log-in page. Each of its views is mounted here behind the product's rule
instead: the queue dashboards permission, held by operators and superusers.
Its pages live in the admin's look, so the account must also be staff, as the
demo's operator is.
"""

import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

import django_rq.urls
import redis
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern

from accounts.roles import can_see_dashboards

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def operators_only(view: View) -> View:
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_see_dashboards(request.user):
            return _refused(request, "The queue dashboard is for operators.")
        if not request.user.is_staff:
            return _refused(
                request,
                "The queue dashboard is part of the admin: your account also "
                "needs staff status. An administrator can give it.",
            )
        return _unless_redis_is_down(request, view, args, kwargs)

    return guarded


def dashboard_urlpatterns() -> list[URLPattern]:
    """django-rq's own URLs, names and all, each behind `operators_only`."""
    return [
        URLPattern(
            pattern.pattern,
            operators_only(pattern.callback),
            pattern.default_args,
            pattern.name,
        )
        for pattern in django_rq.urls.urlpatterns
    ]


def _unless_redis_is_down(
    request: HttpRequest, view: View, args: tuple, kwargs: dict
) -> HttpResponse:
    try:
        return view(request, *args, **kwargs)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        logger.warning("Queue dashboard: Redis cannot be reached: %s", error)
        context = {"redis_address": _redis_address()}
        return render(request, "queue_dashboard_unavailable.html", context, status=503)


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "403.html", {"message": message}, status=403)


def _redis_address() -> str:
    """Host and port of the queue's Redis; never its password."""
    url = settings.RQ_QUEUES["default"].get("URL") or settings.REDIS_URL
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"
