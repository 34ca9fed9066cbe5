"""Checks on what callers ask for, made before anything is sent."""

from collections.abc import Callable, Iterable
from typing import Any

# Zendesk's limit for update_many; what it does with more is undocumented.
MAX_IDS_PER_CALL = 100


def joined_ids(ids: Iterable[Any], *, convert: Callable[[Any], Any] = str) -> str:
    """Between 1 and 100 ids as `1,2,3`, duplicates dropped, order kept."""
    if isinstance(ids, str | bytes):
        raise TypeError("Expected a collection of ids, not one string")

    unique = list(dict.fromkeys(str(convert(value)) for value in ids))
    if not unique:
        raise ValueError("No ids given")
    if len(unique) > MAX_IDS_PER_CALL:
        raise ValueError(
            f"{len(unique)} ids given; Zendesk takes at most {MAX_IDS_PER_CALL}"
        )
    return ",".join(unique)


def tag_changes(
    additional_tags: Iterable[str], remove_tags: Iterable[str]
) -> dict[str, list[str]]:
    """The `ticket` object of an update_many body that only touches tags.

    Only `additional_tags` and `remove_tags` can come out of here: `tags`
    would replace each ticket's whole list.
    """
    # One string would be read as a list of one-letter tags.
    if isinstance(additional_tags, str) or isinstance(remove_tags, str):
        raise TypeError("Tags must be a collection of strings, not one string")

    add, remove = list(additional_tags), list(remove_tags)
    if not add and not remove:
        raise ValueError("No tags to add or remove")
    if set(add) & set(remove):
        raise ValueError("A tag cannot be both added and removed")

    changes = {"additional_tags": add, "remove_tags": remove}
    return {key: tags for key, tags in changes.items() if tags}


def ticket_changes(ticket: dict[str, Any]) -> dict[str, Any]:
    """Check the `ticket` object of an update_many before it is sent.

    `tags` is refused: it replaces each ticket's whole list and loses the
    tags agents add meanwhile. Add and remove tags instead.
    """
    if not isinstance(ticket, dict):
        raise TypeError("The changes must be a dict")
    if "tags" in ticket:
        raise ValueError("'tags' replaces every tag; use additional_tags/remove_tags")
    if not ticket:
        raise ValueError("No changes given")
    return ticket


def batch_changes(tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check a batch update_many: 1 to 100 tickets, each with its own id."""
    if not tickets:
        raise ValueError("No tickets given")
    if len(tickets) > MAX_IDS_PER_CALL:
        raise ValueError(
            f"{len(tickets)} tickets given; Zendesk takes at most {MAX_IDS_PER_CALL}"
        )

    ids = [ticket.get("id") for ticket in tickets]
    if any(not isinstance(ticket_id, int) for ticket_id in ids):
        raise ValueError("Every ticket needs an integer id")
    if len(set(ids)) != len(ids):
        raise ValueError("A ticket id appears more than once")
    for ticket in tickets:
        ticket_changes({name: value for name, value in ticket.items() if name != "id"})
    return tickets
