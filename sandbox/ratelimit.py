"""Account-wide requests per minute, counted from the request log.

Counting rows in the database rather than in memory lets several server
processes (runserver, gunicorn workers) share one budget, as a Zendesk
account does. The window is a fixed clock minute.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpResponse

from .models import RequestLog

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Window:
    limit: int  # 0 means no limit
    used: int  # requests already made in this window, this one excluded
    resets_in: int  # whole seconds until the window ends, at least 1

    @property
    def exceeded(self) -> bool:
        return self.limit > 0 and self.used >= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used - 1)


def current_window(now: datetime) -> Window:
    limit = settings.SANDBOX_RATE_LIMIT_PER_MINUTE
    start = now.replace(second=0, microsecond=0)
    resets_in = max(1, math.ceil((start + WINDOW - now).total_seconds()))
    if limit <= 0:
        return Window(limit=0, used=0, resets_in=resets_in)

    used = RequestLog.objects.filter(at__gte=start, at__lt=start + WINDOW).count()
    return Window(limit=limit, used=used, resets_in=resets_in)


def add_headers(response: HttpResponse, window: Window) -> None:
    """Zendesk's budget headers; left out when the sandbox runs unlimited."""
    if window.limit <= 0:
        return

    limit, remaining = str(window.limit), str(window.remaining)
    response["X-Rate-Limit"] = limit
    response["X-Rate-Limit-Remaining"] = remaining
    response["ratelimit-limit"] = limit
    response["ratelimit-remaining"] = remaining
    response["ratelimit-reset"] = str(window.resets_in)
