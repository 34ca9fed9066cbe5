"""Which macros mention a text, and where.

Pure functions over macros in Zendesk's shape (`id`, `title`, `active`,
`actions` as `{"field", "value"}` pairs), so that the page, the exports and
the tests read a macro the same way. Matching ignores case; one compiled
pattern both finds and highlights, so what is marked is exactly what matched.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200

# A long comment is shown as this many characters around its first match;
# the exports keep the whole text.
EXCERPT_CHARS = 160

# Action fields in the words Zendesk's own macro editor uses.
FIELD_LABELS = {
    "status": "Status",
    "type": "Type",
    "priority": "Priority",
    "group_id": "Group",
    "assignee_id": "Assignee",
    "set_tags": "Set tags",
    "current_tags": "Add tags",
    "remove_tags": "Remove tags",
    "comment_mode_is_public": "Comment is public",
    "subject": "Subject",
    "ticket_form_id": "Ticket form",
    "brand_id": "Brand",
    "satisfaction_score": "Satisfaction",
    "cc": "CC",
    "follower": "Follower",
}
CUSTOM_FIELD_PREFIX = "custom_fields_"


@dataclass(frozen=True)
class Piece:
    """A stretch of text, marked when it is the text searched for."""

    text: str
    marked: bool


@dataclass(frozen=True)
class ActionMatch:
    field: str
    label: str
    value: str
    label_pieces: tuple[Piece, ...]
    value_pieces: tuple[Piece, ...]

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"


@dataclass(frozen=True)
class MacroMatch:
    id: int
    title: str
    active: bool
    title_matches: bool
    title_pieces: tuple[Piece, ...]
    actions: tuple[ActionMatch, ...]

    @property
    def matched_in(self) -> str:
        parts = ["title"] if self.title_matches else []
        if self.actions:
            parts.append("actions")
        return ", ".join(parts)


def find_macros(
    macros: Iterable[dict], query: str, *, include_inactive: bool
) -> list[MacroMatch]:
    """The macros whose title or actions contain `query`, in the given order."""
    pattern = re.compile(re.escape(query.strip()), re.IGNORECASE)
    matches = []
    for macro in macros:
        if not include_inactive and not macro.get("active", True):
            continue
        match = _match_macro(macro, pattern)
        if match is not None:
            matches.append(match)
    return matches


def _match_macro(macro: dict, pattern: re.Pattern) -> MacroMatch | None:
    title = str(macro.get("title") or "")
    actions = macro.get("actions") or []
    public = comment_is_public(actions)
    found = tuple(
        match
        for action in actions
        if (match := _match_action(action, pattern, public)) is not None
    )

    title_matches = pattern.search(title) is not None
    if not title_matches and not found:
        return None
    return MacroMatch(
        id=int(macro["id"]),
        title=title,
        active=bool(macro.get("active", True)),
        title_matches=title_matches,
        title_pieces=highlight(title, pattern),
        actions=found,
    )


def _match_action(
    action: dict, pattern: re.Pattern, public_comment: bool
) -> ActionMatch | None:
    field = str(action.get("field") or "")
    label = field_label(field, public_comment=public_comment)
    value = value_text(field, action.get("value"))

    # The raw field name counts too: someone may search for "current_tags".
    if not any(pattern.search(text) for text in (value, label, field)):
        return None
    return ActionMatch(
        field=field,
        label=label,
        value=value,
        label_pieces=highlight(label, pattern),
        value_pieces=highlight(excerpt(value, pattern), pattern),
    )


def field_label(field: str, *, public_comment: bool = True) -> str:
    """An action's field in words: "Add tags" for current_tags."""
    if field.startswith("comment_value"):
        kind = "public" if public_comment else "private"
        if field.endswith("_html"):
            kind += ", HTML"
        return f"Comment ({kind})"
    if field.startswith(CUSTOM_FIELD_PREFIX):
        return f"Custom field {field.removeprefix(CUSTOM_FIELD_PREFIX)}"
    return FIELD_LABELS.get(field) or field.replace("_", " ").capitalize()


def comment_is_public(actions: Iterable[dict]) -> bool:
    """Whether the macro's comment is public: Zendesk's default, unless the
    macro sets comment_mode_is_public to false."""
    for action in actions:
        if action.get("field") == "comment_mode_is_public":
            return str(action.get("value")).strip().lower() not in ("false", "0")
    return True


def value_text(field: str, value: object) -> str:
    """An action's value as text; Zendesk sends strings, numbers or lists."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        parts = [str(part) for part in value]
        # A comment may come as ["channel:all", text]: the channel is not text
        # anyone wrote.
        is_comment = field.startswith("comment_value")
        if is_comment and parts and parts[0].startswith("channel:"):
            parts = parts[1:]
        return " ".join(parts)
    return str(value)


def highlight(text: str, pattern: re.Pattern) -> tuple[Piece, ...]:
    """The text cut into pieces, the matching ones marked."""
    pieces = []
    position = 0
    for found in pattern.finditer(text):
        if found.start() > position:
            pieces.append(Piece(text[position : found.start()], marked=False))
        pieces.append(Piece(found.group(), marked=True))
        position = found.end()
    if position < len(text):
        pieces.append(Piece(text[position:], marked=False))
    return tuple(pieces)


def excerpt(text: str, pattern: re.Pattern) -> str:
    """The part of a long text around its first match, with ellipses."""
    if len(text) <= EXCERPT_CHARS:
        return text
    found = pattern.search(text)
    start = max(0, found.start() - EXCERPT_CHARS // 3) if found else 0
    end = start + EXCERPT_CHARS
    before = "…" if start > 0 else ""
    after = "…" if end < len(text) else ""
    return f"{before}{text[start:end]}{after}"
