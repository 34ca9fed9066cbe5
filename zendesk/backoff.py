"""How long to wait before trying a failed request again."""

import math
import random

import requests

MAX_BACKOFF_SECONDS = 60.0

# Zendesk's own limits reset within minutes; a broken header must not park a
# worker for hours.
MAX_RETRY_AFTER_SECONDS = 300.0

# Far past the point where the cap applies; keeps 2**attempt a small number.
_LARGEST_EXPONENT = 16


def backoff_delay(attempt: int, base_seconds: float) -> float:
    """Exponential delay for the given retry (0 for the first), with jitter.

    The jitter adds up to the same delay again, so that workers that failed
    together do not all come back in the same second.
    """
    delay = base_seconds * 2 ** min(attempt, _LARGEST_EXPONENT)
    jittered = delay + random.uniform(0, delay)
    return min(jittered, MAX_BACKOFF_SECONDS)


def retry_after_seconds(response: requests.Response) -> float | None:
    """The `Retry-After` header in seconds, or None if absent or unreadable.

    Only the delta-seconds form is read: it is the one Zendesk sends. An HTTP
    date falls back to the caller's backoff.
    """
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None

    try:
        seconds = float(raw)
    except ValueError:
        return None

    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)
