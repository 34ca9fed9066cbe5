"""Reading Zendesk's rate-limit headers."""

from collections.abc import Mapping


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    return _as_int(headers.get(name))


def inflight_jobs_remaining(headers: Mapping[str, str]) -> int | None:
    """`remaining` from `zendesk-ratelimit-inflight-jobs`, which looks like
    `total=30; remaining=12; resets=40`."""
    raw = headers.get("zendesk-ratelimit-inflight-jobs") or ""
    for part in raw.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "remaining":
            return _as_int(value)
    return None


def _as_int(raw: str | None) -> int | None:
    if raw is None:
        return None

    try:
        return int(raw.strip())
    except ValueError:
        return None
