"""Small, exact sandbox data sets for tests (the seeder is for demos)."""

from collections.abc import Callable

from sandbox.models import Macro, Ticket, View
from sandbox.tags import tags_to_text


def make_tickets(
    count: int,
    *,
    tags: Callable[[int], list[str]] = lambda n: ["base"],
    status: Callable[[int], str] = lambda n: "open",
) -> list[int]:
    """Create `count` tickets; `tags(n)` and `status(n)` shape the n-th one."""
    tickets = Ticket.objects.bulk_create(
        Ticket(subject=f"Test ticket {n}", status=status(n), tags=tags_to_text(tags(n)))
        for n in range(count)
    )
    return [ticket.pk for ticket in tickets]


def make_view(title: str, *, all_conditions=(), any_conditions=()) -> View:
    return View.objects.create(
        title=title,
        conditions={"all": list(all_conditions), "any": list(any_conditions)},
    )


def status_is_not(value: str) -> dict:
    return {"field": "status", "operator": "is_not", "value": value}


def lacks_tag(tag: str) -> dict:
    return {"field": "current_tags", "operator": "not_includes", "value": tag}


def tags_of(ticket_ids: list[int]) -> dict[int, list[str]]:
    rows = Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "tags")
    return {pk: text.split() for pk, text in rows}


def make_macro(title: str, actions: list[dict], **fields) -> Macro:
    return Macro.objects.create(title=title, actions=actions, **fields)


def action(field: str, value: object) -> dict:
    return {"field": field, "value": value}
