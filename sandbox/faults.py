"""Canned failures, so tests can watch a client retry and back off."""

import logging

from django.db.models import F
from django.http import HttpResponse

from .models import Fault
from .responses import status_error, too_many_requests

logger = logging.getLogger(__name__)


def inject_fault(
    path_contains: str,
    status_code: int,
    *,
    times: int = 1,
    retry_after: int | None = None,
    after_handling: bool = False,
) -> Fault:
    """Answer the next `times` requests whose path contains the text with an
    error; with `after_handling`, only once each request has been carried out."""
    return Fault.objects.create(
        path_contains=path_contains,
        status_code=status_code,
        retry_after=retry_after,
        remaining=times,
        after_handling=after_handling,
    )


def take_fault(path: str) -> Fault | None:
    """Use up one matching fault, oldest first, or return None."""
    candidates = Fault.objects.filter(remaining__gt=0).order_by("id")
    for fault in candidates:
        if fault.path_contains not in path:
            continue
        # The guarded update keeps two processes from spending the same fault.
        claimed = Fault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if claimed:
            logger.info("sandbox fault %s served for %s", fault.status_code, path)
            return fault
    return None


def fault_response(fault: Fault) -> HttpResponse:
    if fault.status_code == 429:
        return too_many_requests(fault.retry_after)

    response = status_error(fault.status_code)
    if fault.retry_after is not None:
        response["Retry-After"] = str(fault.retry_after)
    return response
