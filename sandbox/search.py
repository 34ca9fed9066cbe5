"""The part of Zendesk's search language the sandbox understands, as a query
over its tickets, so that the database does the filtering.

Understood: bare words and "quoted phrases" (found in the subject), a bare
number (the ticket with that id), `status:` with `:`, `<`, `>`, `<=`, `>=`
(statuses are ordered new < open < pending < hold < solved < closed),
`tags:` / `tag:`, `subject:`, `created` and `updated` compared with a date
(YYYY-MM-DD, or a full ISO time), and `type:ticket`, which changes nothing
here. A leading `-` negates any term. Repeating `status:` or `tags:` matches
any of the values, as Zendesk does; everything else must all hold.

Anything else (another field, a malformed term) raises SearchQueryError
rather than quietly matching the wrong tickets.
"""

import operator
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import reduce

from django.db.models import Q

from .conditions import STATUS_ORDER
from .tags import normalise_tags, tag_pattern


class SearchQueryError(ValueError):
    """The query cannot be searched; the message says why, for people."""


@dataclass(frozen=True)
class Term:
    field: str  # "" for a bare word or phrase
    comparison: str  # ":", "<", ">", "<=" or ">="
    value: str
    negated: bool = False


# field, then the comparison, then the value: "status<=pending", "tags:vip".
_TERM = re.compile(r"^(?P<field>[a-z_]+)(?P<comparison><=|>=|:|<|>)(?P<value>.*)$")

_FIELD_ALIASES = {"tag": "tags"}
_ANY_OF_FIELDS = ("status", "tags")
_DATE_FIELDS = {"created": "created_at", "updated": "updated_at"}


def search_q(query: str) -> Q:
    """The tickets a query finds, as a filter for Ticket.objects."""
    terms = parse_query(query)
    if not terms:
        raise SearchQueryError("The search query is empty.")

    any_of: dict[str, list[Q]] = {}
    all_of: list[Q] = []
    for term in terms:
        if term.field == "type":
            _check_type(term)
            continue
        condition = _term_q(term)
        if term.field in _ANY_OF_FIELDS and term.comparison == ":" and not term.negated:
            any_of.setdefault(term.field, []).append(condition)
        else:
            all_of.append(~condition if term.negated else condition)

    all_of += [reduce(operator.or_, options) for options in any_of.values()]
    return reduce(operator.and_, all_of, Q())


def parse_query(query: str) -> list[Term]:
    try:
        words = shlex.split(query, posix=True)
    except ValueError as error:
        raise SearchQueryError(f"The search query is malformed: {error}.") from error
    return [_term(word) for word in words]


def _term(word: str) -> Term:
    negated = word.startswith("-") and len(word) > 1
    if negated:
        word = word[1:]

    match = _TERM.match(word)
    if match is None:
        return Term(field="", comparison=":", value=word, negated=negated)

    field = _FIELD_ALIASES.get(match["field"], match["field"])
    value = match["value"]
    if not value:
        raise SearchQueryError(f"“{word}” has no value after the field name.")
    return Term(field, match["comparison"], value, negated)


def _term_q(term: Term) -> Q:
    if term.field == "":
        return _text_q(term.value)
    if term.field == "subject":
        _require_colon(term)
        return Q(subject__icontains=term.value)
    if term.field == "status":
        return _status_q(term)
    if term.field == "tags":
        return _tags_q(term)
    if term.field in _DATE_FIELDS:
        return _date_q(term)
    raise SearchQueryError(
        f"“{term.field}” is not a field the sandbox can search; it knows "
        "status, tags, subject, created, updated and type."
    )


def _text_q(value: str) -> Q:
    # Zendesk takes a bare number for a ticket id; a subject may also hold it.
    if value.isascii() and value.isdigit():
        return Q(pk=int(value)) | Q(subject__icontains=value)
    return Q(subject__icontains=value)


def _status_q(term: Term) -> Q:
    if term.value not in STATUS_ORDER:
        raise SearchQueryError(
            f"“{term.value}” is not a ticket status; use one of "
            f"{', '.join(STATUS_ORDER)}."
        )
    rank = STATUS_ORDER.index(term.value)
    ranks = {
        ":": [rank],
        "<": range(rank),
        "<=": range(rank + 1),
        ">": range(rank + 1, len(STATUS_ORDER)),
        ">=": range(rank, len(STATUS_ORDER)),
    }[term.comparison]
    return Q(status__in=[STATUS_ORDER[index] for index in ranks])


def _tags_q(term: Term) -> Q:
    _require_colon(term)
    tags = normalise_tags(term.value)
    if len(tags) != 1:
        raise SearchQueryError(f"“tags:{term.value}” must name exactly one tag.")
    return Q(tags__contains=tag_pattern(tags[0]))


def _date_q(term: Term) -> Q:
    column = _DATE_FIELDS[term.field]
    start, is_day = _moment(term)
    if term.comparison == ":" and is_day:
        end = datetime.combine(start.date(), time.max, tzinfo=UTC)
        return Q(**{f"{column}__gte": start, f"{column}__lte": end})

    lookup = {":": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
    if is_day and term.comparison in ("<=", ">"):
        # A whole day: "created>2026-01-01" starts after that day ends.
        start = datetime.combine(start.date(), time.max, tzinfo=UTC)
    return Q(**{f"{column}__{lookup[term.comparison]}": start})


def _moment(term: Term) -> tuple[datetime, bool]:
    """The term's date as a UTC time, and whether it named a whole day."""
    try:
        if len(term.value) == 10:
            day = date.fromisoformat(term.value)
            return datetime.combine(day, time.min, tzinfo=UTC), True
        moment = datetime.fromisoformat(term.value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        raise SearchQueryError(
            f"“{term.value}” is not a date the sandbox understands; use "
            "YYYY-MM-DD (relative times such as 4hours are not supported)."
        )
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), False


def _check_type(term: Term) -> None:
    if term.comparison != ":" or term.negated or term.value != "ticket":
        raise SearchQueryError("The sandbox searches tickets only: type:ticket.")


def _require_colon(term: Term) -> None:
    if term.comparison != ":":
        raise SearchQueryError(
            f"“{term.field}{term.comparison}{term.value}” cannot be compared; "
            f"write {term.field}:{term.value}."
        )
