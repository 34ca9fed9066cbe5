"""Tags as Zendesk stores them.

Zendesk is reported to lower-case tags and to split a tag on whitespace, so
"VIP Customer" becomes the two tags "vip" and "customer". We normalise the
same way before anything is sent and show the result to the user, so that
nobody is surprised by what lands on their tickets.
"""

import re
import unicodedata

MAX_TAG_LENGTH = 80
MAX_TAGS = 50

# Besides letters, digits and their accents, a tag may hold these; anything
# else (quotes, commas, #, @, markup) is refused rather than guessed at.
_PUNCTUATION = set("_-/:.")
_SEPARATORS = re.compile(r"[,\s]+")


class TagError(ValueError):
    """Input that cannot become tags."""


def normalise_tags(raw: str) -> list[str]:
    """Split comma-, space- or newline-separated input into Zendesk tags.

    Returns the tags lower-cased, in input order, without duplicates. Raises
    TagError naming the pieces that cannot be tags.
    """
    # Composed form, so that "é" typed as e + accent is the same tag as "é".
    pieces = [p for p in _SEPARATORS.split(unicodedata.normalize("NFC", raw)) if p]
    # Refuse a flood before looking at each piece; duplicates get some slack.
    if len(pieces) > 4 * MAX_TAGS:
        raise TagError(f"Enter at most {MAX_TAGS} tags at a time.")

    tags: dict[str, None] = {}
    problems: list[str] = []
    for piece in pieces:
        tag = piece.lower()
        problem = _problem_with(tag)
        if problem:
            problems.append(f"“{piece}” {problem}")
        else:
            tags[tag] = None

    if problems:
        raise TagError(_listed(problems))
    if len(tags) > MAX_TAGS:
        raise TagError(f"Enter at most {MAX_TAGS} tags at a time ({len(tags)} given).")
    return list(tags)


def _listed(problems: list[str], most: int = 5) -> str:
    shown = "; ".join(problems[:most])
    hidden = len(problems) - most
    return f"{shown}; and {hidden} more" if hidden > 0 else shown


def _problem_with(tag: str) -> str:
    if len(tag) > MAX_TAG_LENGTH:
        return f"is longer than {MAX_TAG_LENGTH} characters"
    if not all(_allowed(char) for char in tag):
        return "has characters a tag cannot hold (use letters, digits, _ - / : and .)"
    if not any(unicodedata.category(char)[0] in "LN" for char in tag):
        return "needs at least one letter or digit"
    return ""


def _allowed(char: str) -> bool:
    # Letters (L), numbers (N) and combining marks (M), in any script.
    return char in _PUNCTUATION or unicodedata.category(char)[0] in "LNM"
