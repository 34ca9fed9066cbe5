"""Tags as Zendesk stores them.

Zendesk is reported to lower-case tags and to split a tag on whitespace, so
"VIP Customer" becomes the two tags "vip" and "customer". We normalise the
same way before anything is sent and show the result to the user, so that
nobody is surprised by what lands on their tickets.
"""

import re

MAX_TAG_LENGTH = 80

# Letters and digits in any script, underscore, hyphen, slash, colon, dot.
# Anything else (quotes, commas, #, @, markup) is refused rather than guessed at.
_TAG_PATTERN = re.compile(r"^[\w\-/:.]+$")
_SEPARATORS = re.compile(r"[,\s]+")


class TagError(ValueError):
    """One piece of input that cannot become a tag."""


def normalise_tags(raw: str) -> list[str]:
    """Split comma-, space- or newline-separated input into Zendesk tags.

    Returns the tags lower-cased, in input order, without duplicates. Raises
    TagError naming every piece that cannot be a tag.
    """
    tags: list[str] = []
    problems: list[str] = []

    for piece in _SEPARATORS.split(raw.strip()):
        if not piece:
            continue
        tag = piece.lower()
        problem = _problem_with(tag)
        if problem:
            problems.append(f"“{piece}” {problem}")
        elif tag not in tags:
            tags.append(tag)

    if problems:
        raise TagError("; ".join(problems))
    return tags


def _problem_with(tag: str) -> str:
    if len(tag) > MAX_TAG_LENGTH:
        return f"is longer than {MAX_TAG_LENGTH} characters"
    if not _TAG_PATTERN.match(tag):
        return "has characters a tag cannot hold (use letters, digits, _ - / : and .)"
    return ""
