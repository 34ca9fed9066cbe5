"""A Zendesk macro's actions, read into the change they make to a ticket.

Zendesk has no endpoint that applies a macro to many tickets: its "apply"
endpoints only preview. So the change is worked out here, action by action,
and sent with update_many. An action this module cannot reproduce exactly
is refused before the run rather than skipped.
"""

from dataclasses import dataclass, field
from html import unescape
from typing import Any

from django.utils.html import strip_tags

from tools.tags import TagError, normalise_tags
from zendesk import TicketSummary

# Ticket fields a macro sets to a value, in the words people see.
FIELD_ACTIONS = {
    "status": "Status",
    "priority": "Priority",
    "type": "Type",
    "group_id": "Group",
    "assignee_id": "Assignee",
    "subject": "Subject",
}
ID_FIELDS = {"group_id", "assignee_id"}
TAG_ACTIONS = {
    "set_tags": "Set tags",
    "current_tags": "Add tags",
    "remove_tags": "Remove tags",
}
CUSTOM_FIELD_PREFIX = "custom_fields_"
ALLOWED_VALUES = {
    "status": {"new", "open", "pending", "hold", "solved"},
    "priority": {"low", "normal", "high", "urgent"},
    "type": {"question", "incident", "problem", "task"},
}
# Zendesk's Liquid: {{ ... }} outputs, {% ... %} tags (if, for, ...).
PLACEHOLDER_STARTS = ("{{", "{%")


class MacroError(ValueError):
    """A macro whose actions cannot be applied faithfully; says why."""


@dataclass(frozen=True)
class MacroActions:
    """What a macro does, ready to be compared with each ticket."""

    macro_id: int
    fields: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    tag_steps: list[tuple[str, list[str]]] = field(default_factory=list)
    comment: dict[str, Any] | None = None

    @property
    def comment_has_placeholders(self) -> bool:
        """Zendesk renders placeholders per ticket; only its preview knows
        what such a comment says on each ticket."""
        if self.comment is None:
            return False
        text = self.comment.get("body") or self.comment.get("html_body") or ""
        return _has_placeholder(text)


def read_macro(macro: dict, *, current_user_id: int | None) -> MacroActions:
    """The macro's actions, or MacroError listing every one that cannot be
    reproduced."""
    reader = _ActionReader(current_user_id)
    for action in macro.get("actions") or []:
        reader.read(action)
    if reader.problems:
        raise MacroError(
            "This macro cannot be applied in bulk: " + "; ".join(reader.problems)
        )

    actions = MacroActions(
        macro_id=int(macro["id"]),
        fields=reader.fields,
        custom_fields=reader.custom_fields,
        tag_steps=reader.tag_steps,
        comment=reader.comment(),
    )
    changes_something = (
        actions.fields or actions.custom_fields or actions.tag_steps or actions.comment
    )
    if not changes_something:
        raise MacroError("This macro has no action that changes a ticket.")
    return actions


class _ActionReader:
    def __init__(self, current_user_id: int | None) -> None:
        self.current_user_id = current_user_id
        self.fields: dict[str, Any] = {}
        self.custom_fields: dict[str, Any] = {}
        self.tag_steps: list[tuple[str, list[str]]] = []
        self.comment_text: str | None = None
        self.comment_is_html = False
        self.public = True
        self.problems: list[str] = []

    def read(self, action: dict) -> None:
        name = str(action.get("field") or "")
        value = action.get("value")
        if name in FIELD_ACTIONS:
            self._read_field(name, value)
        elif name in TAG_ACTIONS:
            self._read_tags(name, value)
        elif name in ("comment_value", "comment_value_html"):
            self._read_comment(name, value)
        elif name == "comment_mode_is_public":
            self.public = str(value).strip().lower() not in {"false", "0", ""}
        elif name.startswith(CUSTOM_FIELD_PREFIX):
            self._read_custom_field(name, value)
        else:
            self.problems.append(f"the action “{name}” is not supported")

    def _read_field(self, name: str, value: Any) -> None:
        if _has_placeholder(value):
            self.problems.append(f"{FIELD_ACTIONS[name]} uses a placeholder")
            return
        if name in ID_FIELDS:
            self.fields[name] = self._user_or_id(name, value)
            return
        text = "" if value is None else str(value).strip()
        allowed = ALLOWED_VALUES.get(name)
        if allowed is not None and text and text not in allowed:
            self.problems.append(f"{FIELD_ACTIONS[name]} “{text}” is not a value")
            return
        self.fields[name] = text or None

    def _user_or_id(self, name: str, value: Any) -> int | None:
        text = "" if value is None else str(value).strip()
        if text == "current_user":
            if self.current_user_id is None:
                self.problems.append("“current user” could not be looked up")
            return self.current_user_id
        if not text:
            return None
        if not text.isdigit():
            self.problems.append(f"{FIELD_ACTIONS[name]} “{text}” is not an id")
            return None
        return int(text)

    def _read_tags(self, name: str, value: Any) -> None:
        words = " ".join(value) if isinstance(value, list) else str(value or "")
        try:
            self.tag_steps.append((name, normalise_tags(words)))
        except TagError as error:
            self.problems.append(f"{TAG_ACTIONS[name]}: {error}")

    def _read_comment(self, name: str, value: Any) -> None:
        # Zendesk stores some comments as ["channel:all", "text"].
        if isinstance(value, list):
            value = value[-1] if value else ""
        self.comment_text = str(value or "")
        self.comment_is_html = name == "comment_value_html"

    def _read_custom_field(self, name: str, value: Any) -> None:
        field_id = name.removeprefix(CUSTOM_FIELD_PREFIX)
        if not field_id.isdigit():
            self.problems.append(f"the custom field “{field_id}” is not an id")
        elif _has_placeholder(value):
            self.problems.append(f"custom field {field_id} uses a placeholder")
        else:
            self.custom_fields[field_id] = value

    def comment(self) -> dict[str, Any] | None:
        if not self.comment_text:
            return None
        key = "html_body" if self.comment_is_html else "body"
        return {key: self.comment_text, "public": self.public}


def _has_placeholder(value: Any) -> bool:
    text = str(value or "")
    return any(start in text for start in PLACEHOLDER_STARTS)


@dataclass(frozen=True)
class TicketChange:
    change: dict[str, Any]
    before: dict[str, Any]


def change_for(
    actions: MacroActions, ticket: TicketSummary, *, comment: dict | None = None
) -> TicketChange:
    """The update that makes `ticket` what the macro would make it, naming
    only what differs, and the fields it touches as they were. `comment`
    replaces the macro's own (a preview's rendering of its placeholders)."""
    change: dict[str, Any] = {}
    before: dict[str, Any] = {}

    for name, value in actions.fields.items():
        current = ticket.status if name == "status" else ticket.fields.get(name)
        if current != value:
            change[name], before[name] = value, current

    customs = ticket.fields.get("custom_fields") or {}
    changed_customs = {
        field_id: value
        for field_id, value in actions.custom_fields.items()
        if not _same_value(customs.get(field_id), value)
    }
    if changed_customs:
        change["custom_fields"] = [
            {"id": int(field_id), "value": value}
            for field_id, value in changed_customs.items()
        ]
        before["custom_fields"] = {pk: customs.get(pk) for pk in changed_customs}

    change |= _tag_change(actions, list(ticket.tags))
    if "additional_tags" in change or "remove_tags" in change:
        before["tags"] = list(ticket.tags)

    comment = comment or actions.comment
    if comment:
        change["comment"] = comment
    return TicketChange(change=change, before=before)


def _same_value(current: Any, wanted: Any) -> bool:
    """Whether a custom field already holds the macro's value. Macros store
    values as text ("true", "42"); tickets hold them typed (true, 42), and
    a multi-select's options in any order."""
    return _comparable(current) == _comparable(wanted)


def _comparable(value: Any) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, list):
        return sorted(str(item) for item in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _tag_change(actions: MacroActions, current: list[str]) -> dict[str, list[str]]:
    """The macro's tag actions, in order, as tags to add and to remove.

    "Set tags" becomes the difference with the ticket's tags rather than a
    new list: sending `tags` would lose tags agents add meanwhile."""
    wanted = list(current)
    for step, tags in actions.tag_steps:
        if step == "set_tags":
            wanted = list(tags)
        elif step == "current_tags":
            wanted += [tag for tag in tags if tag not in wanted]
        else:
            wanted = [tag for tag in wanted if tag not in tags]

    change = {}
    added = [tag for tag in wanted if tag not in current]
    removed = [tag for tag in current if tag not in wanted]
    if added:
        change["additional_tags"] = added
    if removed:
        change["remove_tags"] = removed
    return change


def change_lines(before: dict, change: dict) -> list[str]:
    """A ticket's planned change beyond its tags, one line per field, and
    the comment it adds."""
    lines = [
        f"{FIELD_ACTIONS[name]}: {_shown(before.get(name))} → {_shown(value)}"
        for name, value in change.items()
        if name in FIELD_ACTIONS
    ]
    old_customs = before.get("custom_fields") or {}
    lines += [
        f"Custom field {entry['id']}: {_shown(old_customs.get(str(entry['id'])))}"
        f" → {_shown(entry['value'])}"
        for entry in change.get("custom_fields") or []
    ]
    comment = change.get("comment")
    if comment:
        kind = "public" if comment.get("public", True) else "private"
        text = comment.get("body")
        if text is None:
            # Shown as the words people will read, not as markup.
            kind += ", rich text"
            text = " ".join(unescape(strip_tags(comment.get("html_body", ""))).split())
        lines.append(f"Comment ({kind}): {text}")
    return lines


def _shown(value: Any) -> str:
    return "–" if value in (None, "") else str(value)
