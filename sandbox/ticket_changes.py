"""What one update asks of a ticket: read from Zendesk's JSON, checked, and
applied to a sandbox ticket in memory.

update_many and the macro previews share this, so a macro's preview and the
update a tool sends for it change a ticket the same way.
"""

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from django.utils.html import strip_tags

from .models import Comment, Ticket, TicketAudit
from .responses import ApiError
from .tags import normalise_tags, tags_to_text

PLAIN_FIELDS = ("status", "priority", "type", "group_id", "assignee_id", "subject")
TAG_FIELDS = ("tags", "additional_tags", "remove_tags")
OTHER_FIELDS = ("custom_fields", "comment", "macro_ids", "macro_id")
SAFE_UPDATE_FIELDS = ("safe_update", "updated_stamp")
ACCEPTED_FIELDS = PLAIN_FIELDS + TAG_FIELDS + OTHER_FIELDS + SAFE_UPDATE_FIELDS

# An update may set any status but closed; Zendesk closes tickets itself.
SETTABLE_STATUSES = [status for status in Ticket.Status if status != "closed"]
# Which values each choice field takes; "" (or null) clears priority and type.
ALLOWED_VALUES = {
    "status": SETTABLE_STATUSES,
    "priority": ["", *Ticket.Priority],
    "type": ["", *Ticket.Type],
}


@dataclass(frozen=True)
class TagChanges:
    replace: list[str] | None = None  # Zendesk's "tags": the whole new list
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)

    def apply(self, tags: list[str]) -> list[str]:
        result = list(self.replace) if self.replace is not None else list(tags)
        result += [tag for tag in self.add if tag not in result]
        return [tag for tag in result if tag not in self.remove]


@dataclass(frozen=True)
class NewComment:
    body: str
    html_body: str
    public: bool = True
    author_id: int | None = None


@dataclass(frozen=True)
class TicketChanges:
    fields: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    tags: TagChanges = TagChanges()
    comment: NewComment | None = None
    macro_ids: tuple[int, ...] = ()
    # Apply only if the ticket was last updated at this moment (safe update).
    updated_stamp: datetime | None = None


@dataclass
class Applied:
    """What applying changes did to one ticket, not yet saved."""

    changed_fields: set[str]
    events: list[dict]
    comment: Comment | None

    def audit(self, ticket: Ticket, changes: TicketChanges, author_id: int, now):
        if not self.events and not changes.macro_ids:
            return None
        return TicketAudit(
            ticket=ticket,
            author_id=author_id,
            events=self.events,
            macro_ids=list(changes.macro_ids),
            created_at=now,
        )


def read_changes(ticket: object) -> TicketChanges:
    """The changes in one `ticket` object of an update; 400 if malformed."""
    if not isinstance(ticket, dict):
        raise _invalid("Each ticket must be a JSON object")
    unknown = sorted(set(ticket) - set(ACCEPTED_FIELDS))
    if unknown:
        raise _invalid(f"Unsupported fields: {', '.join(unknown)}")
    if not ticket:
        raise _invalid(f"Send one of: {', '.join(ACCEPTED_FIELDS)}")

    return TicketChanges(
        fields=_plain_fields(ticket),
        custom_fields=_custom_fields(ticket.get("custom_fields", [])),
        tags=_tag_changes(ticket),
        comment=_comment(ticket.get("comment")),
        macro_ids=_macro_ids(ticket),
        updated_stamp=_updated_stamp(ticket),
    )


def _updated_stamp(ticket: dict) -> datetime | None:
    if not ticket.get("safe_update"):
        return None
    try:
        stamp = datetime.fromisoformat(str(ticket.get("updated_stamp")))
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise _invalid("updated_stamp must be a time like 2026-01-31T12:00:00Z")
    return stamp


def is_stale(changes: TicketChanges, updated_at: datetime) -> bool:
    """Whether a safe update must be refused: the ticket changed after the
    stamp. The API shows times to the second, so they are compared so."""
    if changes.updated_stamp is None:
        return False
    return updated_at.replace(microsecond=0) > changes.updated_stamp


def _plain_fields(ticket: dict) -> dict[str, Any]:
    fields = {name: ticket[name] for name in PLAIN_FIELDS if name in ticket}
    for name in ("group_id", "assignee_id"):
        if name in fields and not _is_id_or_none(fields[name]):
            raise _invalid(f"{name} must be a number or null")
    for name in ("status", "subject"):
        if name in fields and not isinstance(fields[name], str):
            raise _invalid(f"{name} must be a string")
    for name in ("priority", "type"):
        if name in fields and not isinstance(fields[name], str | None):
            raise _invalid(f"{name} must be a string or null")
    return fields


def _is_id_or_none(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _custom_fields(entries: object) -> dict[str, Any]:
    if not isinstance(entries, list):
        raise _invalid("custom_fields must be a list of {id, value}")
    values = {}
    for entry in entries:
        if not (isinstance(entry, dict) and _is_id_or_none(entry.get("id"))):
            raise _invalid("custom_fields must be a list of {id, value}")
        if entry["id"] is None or "value" not in entry:
            raise _invalid("custom_fields must be a list of {id, value}")
        values[str(entry["id"])] = entry["value"]
    return values


def _tag_changes(ticket: dict) -> TagChanges:
    replace = ticket.get("tags")
    return TagChanges(
        replace=None if replace is None else _tag_values(replace, "tags"),
        add=_tag_values(ticket.get("additional_tags", []), "additional_tags"),
        remove=_tag_values(ticket.get("remove_tags", []), "remove_tags"),
    )


def _tag_values(value: object, name: str) -> list[str]:
    if isinstance(value, str):
        return normalise_tags(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return normalise_tags(value)
    raise _invalid(f"{name} must be a list of strings")


def _comment(comment: object) -> NewComment | None:
    if comment is None:
        return None
    if not isinstance(comment, dict):
        raise _invalid("comment must be an object")
    body, html_body = comment.get("body"), comment.get("html_body")
    public, author_id = comment.get("public", True), comment.get("author_id")
    if not isinstance(body, str | None) or not isinstance(html_body, str | None):
        raise _invalid("comment.body and comment.html_body must be strings")
    if not (body or html_body):
        raise _invalid("comment needs a body or an html_body")
    if not isinstance(public, bool) or not _is_id_or_none(author_id):
        raise _invalid("comment.public must be true or false, author_id a number")
    return new_comment(body=body, html_body=html_body, public=public, author=author_id)


def new_comment(
    *, body: str | None, html_body: str | None, public: bool, author: int | None
) -> NewComment:
    """A comment from its text, its HTML or both; the missing one is derived."""
    if html_body is None:
        html_body = text_to_html(body or "")
    if body is None:
        body = strip_tags(html_body).strip()
    return NewComment(body=body, html_body=html_body, public=public, author_id=author)


def text_to_html(text: str) -> str:
    paragraphs = [escape(part).replace("\n", "<br>") for part in text.split("\n\n")]
    inner = "".join(f"<p>{part}</p>" for part in paragraphs)
    return f'<div class="zd-comment" dir="auto">{inner}</div>'


def _macro_ids(ticket: dict) -> tuple[int, ...]:
    ids = list(ticket.get("macro_ids", []))
    if "macro_id" in ticket:
        ids.append(ticket["macro_id"])
    if not all(_is_id_or_none(value) and value is not None for value in ids):
        raise _invalid("macro_ids must be a list of numbers")
    return tuple(dict.fromkeys(ids))


def invalid_value(changes: TicketChanges) -> str | None:
    """Why Zendesk would refuse these values as RecordInvalid, or None."""
    for name, allowed in ALLOWED_VALUES.items():
        value = changes.fields.get(name, allowed[0])
        if (value or "") not in allowed:
            return f"{name.capitalize()}: {value!r} is not a valid value"
    return None


def apply_changes(
    ticket: Ticket, changes: TicketChanges, *, author_id: int, now: datetime
) -> Applied:
    """Change `ticket` in memory; the caller saves it, the comment and the
    audit. updated_at is left to the caller too."""
    applied = Applied(changed_fields=set(), events=[], comment=None)
    for name, value in changes.fields.items():
        stored = "" if value is None and name in ("priority", "type") else value
        _change(ticket, applied, name, getattr(ticket, name), stored)

    custom = dict(ticket.custom_fields)
    for field_id, value in changes.custom_fields.items():
        if custom.get(field_id) != value:
            applied.events.append(_event(field_id, custom.get(field_id), value))
            custom[field_id] = value
    if custom != ticket.custom_fields:
        ticket.custom_fields = custom
        applied.changed_fields.add("custom_fields")

    _apply_tags(ticket, changes.tags, applied)
    if changes.comment is not None:
        applied.comment = _stored_comment(ticket, changes.comment, author_id, now)
        applied.events.append({"type": "Comment", "public": changes.comment.public})
    return applied


def _change(ticket: Ticket, applied: Applied, name: str, old: Any, new: Any) -> None:
    if old == new:
        return
    setattr(ticket, name, new)
    applied.changed_fields.add(name)
    applied.events.append(_event(name, old or None, new or None))


def _event(name: str, previous: Any, value: Any) -> dict:
    return {
        "type": "Change",
        "field_name": name,
        "previous_value": previous,
        "value": value,
    }


def _apply_tags(ticket: Ticket, tags: TagChanges, applied: Applied) -> None:
    current = ticket.tag_list
    new_tags = tags.apply(current)
    # Order carries no meaning in Zendesk; only a different set is a change.
    if set(new_tags) == set(current):
        return
    ticket.tags = tags_to_text(new_tags)
    applied.changed_fields.add("tags")
    applied.events.append(_event("tags", current, new_tags))


def _stored_comment(
    ticket: Ticket, comment: NewComment, author_id: int, now: datetime
) -> Comment:
    return Comment(
        ticket=ticket,
        author_id=comment.author_id or author_id,
        body=comment.body,
        html_body=comment.html_body,
        public=comment.public,
        created_at=now,
    )


def _invalid(description: str) -> ApiError:
    return ApiError(400, "InvalidValue", description)
