"""What a macro does to a ticket, read from its actions the way Zendesk reads
them, and the placeholders its comments may hold.

Zendesk only previews macros through the API; applying one is an ordinary
ticket update. So the sandbox turns a macro into the same TicketChanges an
update would carry, and previews by applying those to an unsaved ticket.
"""

import logging
import re
from html import escape

from .models import Macro, Ticket, User
from .seed_account import API_USER_ID
from .tags import normalise_tags
from .ticket_changes import NewComment, TagChanges, TicketChanges, new_comment

logger = logging.getLogger(__name__)

PLAIN_ACTIONS = ("status", "priority", "type", "subject")
CUSTOM_FIELD_PREFIX = "custom_fields_"
# Liquid's {{ name }}, possibly with filters after a "|", which are ignored.
PLACEHOLDER = re.compile(r"\{\{\s*([^}|]*?)\s*(\|[^}]*)?\}\}")


def macro_changes(macro: Macro) -> TicketChanges:
    """The ticket update a macro stands for; actions the sandbox does not
    model (cc, satisfaction_score, ...) are left out."""
    values = {action["field"]: action["value"] for action in macro.actions}
    fields = {name: values[name] for name in PLAIN_ACTIONS if name in values}
    # Ids often come as strings in actions; assignee may be "current_user".
    for name in ("group_id", "assignee_id"):
        if name in values:
            fields[name] = _id(values[name])

    return TicketChanges(
        fields=fields,
        custom_fields=_custom_fields(values),
        tags=TagChanges(
            replace=_tags(values["set_tags"]) if "set_tags" in values else None,
            add=_tags(values.get("current_tags", "")),
            remove=_tags(values.get("remove_tags", "")),
        ),
        comment=_comment(values),
        macro_ids=(macro.pk,),
    )


def _id(value: object) -> int | None:
    if value == "current_user":
        return API_USER_ID
    return None if value in (None, "") else int(value)


def _custom_fields(values: dict) -> dict[str, object]:
    return {
        name.removeprefix(CUSTOM_FIELD_PREFIX): value
        for name, value in values.items()
        if name.startswith(CUSTOM_FIELD_PREFIX)
    }


def _tags(value: object) -> list[str]:
    return normalise_tags(value if isinstance(value, str | list) else "")


def _comment(values: dict) -> NewComment | None:
    text = values.get("comment_value")
    html = values.get("comment_value_html")
    # The list form names the channels first: ["channel:all", "text"].
    if isinstance(text, list):
        text = text[-1] if text else None
    if not text and not html:
        return None
    public = str(values.get("comment_mode_is_public", "true")).lower() != "false"
    return new_comment(body=text or None, html_body=html, public=public, author=None)


def rendered_comment(comment: NewComment, ticket: Ticket) -> NewComment:
    """The comment with its placeholders filled in for `ticket`."""
    values = placeholder_values(ticket)
    return NewComment(
        body=render(comment.body, values),
        html_body=render(comment.html_body, values, html=True),
        public=comment.public,
        author_id=comment.author_id,
    )


def placeholder_values(ticket: Ticket) -> dict[str, object]:
    requester = _user(ticket.requester_id)
    assignee = _user(ticket.assignee_id)
    agent = _user(API_USER_ID) or User(id=API_USER_ID, name="Sandbox agent")
    return {
        "ticket.id": ticket.pk,
        "ticket.title": ticket.subject,
        "ticket.status": ticket.status,
        "ticket.priority": ticket.priority,
        "ticket.requester.name": requester.name if requester else "",
        "ticket.requester.first_name": requester.first_name if requester else "",
        "ticket.requester.email": requester.email if requester else "",
        "ticket.assignee.name": assignee.name if assignee else "",
        "current_user.name": agent.name,
        "current_user.first_name": agent.first_name,
        "current_user.email": agent.email,
    }


def _user(user_id: int | None) -> User | None:
    return None if user_id is None else User.objects.filter(pk=user_id).first()


def render(text: str, values: dict[str, object], *, html: bool = False) -> str:
    """Fill in {{placeholders}}; an unknown one becomes "", as Liquid does."""

    def value_of(match: re.Match) -> str:
        value = str(values.get(match.group(1), ""))
        return escape(value) if html else value

    return PLACEHOLDER.sub(value_of, text)


def comment_preview(comment: NewComment) -> dict:
    """The comment part of an apply.json answer."""
    return {
        "body": comment.body,
        "html_body": comment.html_body,
        "scoped_body": [["channel:all", comment.body]],
        "public": comment.public,
    }


def changed_fields_payload(changes: TicketChanges) -> dict:
    """What a macro sets, without a ticket: the fields under their API names,
    and tag changes in update_many's vocabulary, since there are no tags yet
    to add them to."""
    ticket: dict[str, object] = dict(changes.fields)
    if changes.custom_fields:
        entries = [
            {"id": int(field_id), "value": value}
            for field_id, value in changes.custom_fields.items()
        ]
        ticket["custom_fields"] = entries
        ticket["fields"] = entries
    if changes.tags.replace is not None:
        ticket["tags"] = changes.tags.replace
    if changes.tags.add:
        ticket["additional_tags"] = changes.tags.add
    if changes.tags.remove:
        ticket["remove_tags"] = changes.tags.remove
    return ticket
