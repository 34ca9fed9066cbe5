"""Tag normalisation and storage, in one place for the API and the seeder.

Zendesk is reported to lower-case tags and to split a tag at whitespace, so
"Priority Customer" becomes two tags. Tickets store their tags as one text
column wrapped in spaces (" billing vip "), which lets SQL find a whole tag
with `contains " vip "` and never match part of another tag.
"""

from collections.abc import Iterable


def normalise_tags(values: Iterable[str] | str) -> list[str]:
    """Lower-case, split at whitespace and drop repeats, keeping first order."""
    if isinstance(values, str):
        values = [values]
    words = (word for value in values for word in value.lower().split())
    return list(dict.fromkeys(words))


def tags_to_text(tags: Iterable[str]) -> str:
    return " " + "".join(f"{tag} " for tag in tags)


def tags_from_text(text: str) -> list[str]:
    return text.split()


def tag_pattern(tag: str) -> str:
    """The substring that finds a whole tag in the stored text."""
    return f" {tag} "
