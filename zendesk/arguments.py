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
