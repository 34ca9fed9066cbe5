"""Turn a Zendesk view's conditions into a query, so SQL does the filtering.

Supported: `status` with is / is_not / less_than / greater_than (statuses are
ordered new < open < pending < hold < solved < closed) and `current_tags`
with includes (at least one of the listed tags) / not_includes (none of
them). Anything else raises UnsupportedCondition rather than silently
matching the wrong tickets.
"""

import operator
from functools import reduce

from django.db.models import Q

from .tags import normalise_tags, tag_pattern

STATUS_ORDER = ("new", "open", "pending", "hold", "solved", "closed")


class UnsupportedCondition(ValueError):
    pass


def conditions_q(conditions: dict) -> Q:
    """All of the "all" conditions, and at least one "any" one if there are any."""
    all_parts = [condition_q(item) for item in conditions.get("all") or []]
    any_parts = [condition_q(item) for item in conditions.get("any") or []]

    query = reduce(operator.and_, all_parts, Q())
    if any_parts:
        query &= reduce(operator.or_, any_parts)
    return query


def condition_q(condition: dict) -> Q:
    field = condition.get("field")
    op = condition.get("operator")
    value = condition.get("value")

    if field == "status":
        return _status_q(op, value)
    if field == "current_tags":
        return _tags_q(op, value)
    raise UnsupportedCondition(f"field {field!r} is not supported")


def _status_q(op: str, value: str) -> Q:
    if op == "is":
        return Q(status=value)
    if op == "is_not":
        return ~Q(status=value)
    if value not in STATUS_ORDER:
        raise UnsupportedCondition(f"status {value!r} cannot be compared")

    rank = STATUS_ORDER.index(value)
    if op == "less_than":
        return Q(status__in=STATUS_ORDER[:rank])
    if op == "greater_than":
        return Q(status__in=STATUS_ORDER[rank + 1 :])
    raise UnsupportedCondition(f"status operator {op!r} is not supported")


def _tags_q(op: str, value: str) -> Q:
    tags = normalise_tags(value or "")
    if not tags:
        raise UnsupportedCondition("current_tags needs at least one tag")

    has_any = reduce(operator.or_, (Q(tags__contains=tag_pattern(t)) for t in tags))
    if op == "includes":
        return has_any
    if op == "not_includes":
        return ~has_any
    raise UnsupportedCondition(f"current_tags operator {op!r} is not supported")
