"""What every sandbox API request goes through before and after its endpoint.

In order: an injected fault, authentication, the rate limit, a 429 or 5xx
from the fault modes, the HTTP method, then the endpoint itself. Whatever the
outcome, the response gets the rate limit headers, waits out any delay the
fault modes add, and the request is written to the request log.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import fault_modes, ratelimit
from .auth import is_authenticated
from .faults import fault_response, take_fault
from .models import RequestLog
from .responses import ApiError, json_error, too_many_requests

logger = logging.getLogger(__name__)

Endpoint = Callable[..., HttpResponse]


def api_endpoint(*methods: str) -> Callable[[Endpoint], Endpoint]:
    """Turn a function into a sandbox API endpoint accepting `methods`."""

    def decorate(view: Endpoint) -> Endpoint:
        # The sandbox plays Zendesk, a third-party API that takes no cookies:
        # every request proves itself with credentials (see auth.py), so a
        # CSRF token would protect nothing. These endpoints exist only when
        # SANDBOX_ENABLED is on.
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            now = timezone.now()
            window = ratelimit.current_window(now)
            modes = fault_modes.current_modes(now)

            try:
                response = _respond(request, window, modes, methods, view, args, kwargs)
            except Exception:
                # Django turns this into a 500; the call still counts.
                _log(request, now, 500)
                raise
            ratelimit.add_headers(response, window)
            fault_modes.delay_answer(modes, request.path)

            _log(request, now, response.status_code)
            return response

        return endpoint

    return decorate


def _respond(request, window, modes, methods, view, args, kwargs) -> HttpResponse:
    fault = take_fault(request.path)
    if fault is not None and not fault.after_handling:
        return fault_response(fault)
    response = _handle(request, window, modes, methods, view, args, kwargs)
    if fault is not None:
        return fault_response(fault)
    return response


def _handle(request, window, modes, methods, view, args, kwargs) -> HttpResponse:
    if not is_authenticated(request):
        return _unauthorised()
    if window.exceeded:
        logger.info("sandbox rate limit of %d a minute reached", window.limit)
        return too_many_requests(window.resets_in)
    forced = fault_modes.forced_response(modes, request.path)
    if forced is not None:
        return forced
    if request.method not in methods:
        return json_error(405, "MethodNotAllowed", f"Use {', '.join(methods)}")

    try:
        return view(request, *args, **kwargs)
    except ApiError as error:
        return error.response()


def _log(request: HttpRequest, now: datetime, status_code: int) -> None:
    RequestLog.objects.create(
        at=now,
        method=request.method or "",
        path=request.path[:500],
        status_code=status_code,
    )


def _unauthorised() -> HttpResponse:
    response = JsonResponse({"error": "Couldn't authenticate you"}, status=401)
    response["WWW-Authenticate"] = 'Basic realm="Web Password"'
    return response
