"""Apply Macro: apply one of the account's macros to every ticket of a view,
a search or a list of tickets.

Zendesk only previews macros, so each ticket's change is worked out from
the macro's actions (tools/macro_actions.py) when the job takes its list,
stored with the ticket's result, and sent with update_many: the bulk form
when a chunk's tickets get the same change, the batch form when they differ
(always, for a change that adds a comment: each is stamped with its own
ticket's snapshot, see _guarded). Every update names the macro, which
Zendesk records in the ticket's audit.
"""

import logging
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.html import strip_tags

from tools.base import (
    ATTEMPTS_SINCE,
    CLOCK_MARGIN,
    BaseTool,
    TicketPlan,
    ToolError,
)
from tools.macro_actions import (
    MacroActions,
    MacroError,
    change_for,
    change_lines,
    read_macro,
)
from tools.macro_matching import comment_is_public, field_label, value_text
from tools.macros import load_macros
from tools.registry import register
from tools.source_form import TicketSourceForm
from tools.sources import PAGE_CLIENT_OPTIONS, describe_source, iter_source_tickets
from zendesk import NotFoundError, TicketSummary, ZendeskClient, ZendeskError

if TYPE_CHECKING:
    from jobs.models import Job

logger = logging.getLogger(__name__)

NOT_APPLICABLE_CLOSED = "Closed: Zendesk does not let a macro change a closed ticket"
# How many of a macro's actions its label in the list spells out.
LABEL_ACTIONS = 3


class ApplyMacroForm(TicketSourceForm):
    macro = forms.TypedChoiceField(
        coerce=int,
        label="Macro",
        help_text=(
            "A macro whose comment has placeholders costs one more Zendesk call "
            "per ticket: Zendesk's preview of the macro writes each ticket's "
            "comment."
        ),
        error_messages={
            "invalid_choice": "That is not one of the account's active macros.",
            "required": "Choose a macro.",
        },
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run: show each ticket's change and comment, change nothing",
    )
    field_order = ["macro"]

    def __init__(self, *args, macros: list[dict] = (), macros_error: str = "", **kw):
        super().__init__(*args, **kw)
        self.macros = {int(macro["id"]): macro for macro in macros}
        self.macros_error = macros_error
        self.current_user_id: int | None = None
        if macros_error:
            # Shown before anyone posts: the list is empty, and this is why.
            self.fields["macro"].help_text = macros_error
        self.fields["macro"].choices = [("", "Choose a macro")] + [
            (int(macro["id"]), _choice_label(macro)) for macro in macros
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.macros_error:
            self.add_error("macro", self.macros_error)
        return cleaned

    def clean_macro(self) -> dict:
        macro = self.macros[self.cleaned_data["macro"]]
        try:
            read_macro(macro, current_user_id=self._current_user_id(macro))
        except MacroError as error:
            raise forms.ValidationError(str(error)) from error
        return macro

    def _current_user_id(self, macro: dict) -> int | None:
        """The API user's id, which "assign to current user" means. Looked
        up only for a macro that needs it."""
        if not any(
            str(action.get("value")) == "current_user"
            for action in macro.get("actions") or []
        ):
            return None
        try:
            with ZendeskClient.from_settings(**PAGE_CLIENT_OPTIONS) as client:
                self.current_user_id = int(client.current_user()["id"])
        except ZendeskError as error:
            logger.warning("Could not look up the API user: %s", error)
            return None
        return self.current_user_id

    def job_params(self) -> dict:
        macro = self.cleaned_data["macro"]
        return {
            "source": self.source_params(),
            # The actions as they are now: the dry run, the run and a re-run
            # apply the same macro even if someone edits it in Zendesk. A
            # comment with placeholders is the exception (only Zendesk's
            # preview of the macro as it is can write it): such a job stops
            # if the macro has changed.
            "macro": {
                "id": int(macro["id"]),
                "title": macro["title"],
                "actions": macro.get("actions") or [],
            },
            "current_user_id": self.current_user_id,
            "limit": self.run_limit(),
            "dry_run": self.cleaned_data["dry_run"],
        }


def _choice_label(macro: dict) -> str:
    """The label, saying up front when the macro will be refused. Any user
    id stands in for "current user" here: only whether it can be applied is
    asked."""
    try:
        read_macro(macro, current_user_id=0)
    except MacroError:
        return f"{macro_label(macro)} (cannot be applied in bulk)"
    return macro_label(macro)


def macro_label(macro: dict) -> str:
    """The macro's title and what it does, for the list."""
    actions = macro.get("actions") or []
    public = comment_is_public(actions)
    said = [
        f"{field_label(action.get('field') or '', public_comment=public)}: "
        f"{_short(value_text(action.get('field') or '', action.get('value')))}"
        for action in actions
        if action.get("field") != "comment_mode_is_public"
    ]
    more = len(said) - LABEL_ACTIONS
    summary = "; ".join(said[:LABEL_ACTIONS]) + (f"; {more} more" if more > 0 else "")
    return f"{macro['title']} ({summary})" if summary else macro["title"]


def _short(text: str, most: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


@register
class ApplyMacro(BaseTool):
    name = "Apply Macro"
    slug = "apply-macro"
    description = "Apply a macro to every ticket of a view, a search or a list."
    category = "Macros"
    requires_admin = True
    describes_changes = True
    form_class = ApplyMacroForm

    def get_form(self, *args: Any, **kwargs: Any) -> forms.Form:
        try:
            macros = [macro for macro in load_macros() if macro.get("active")]
            error = ""
        except ZendeskError as problem:
            logger.warning("Could not load macros from Zendesk: %s", problem)
            macros, error = [], f"The macros could not be loaded: {problem}"
        return super().get_form(*args, macros=macros, macros_error=error, **kwargs)

    def execute(self, job: "Job") -> None:
        # Each ticket costs a preview call besides its share of the update:
        # even a few hundred tickets would hold the page for a minute, so
        # such a run always goes to a worker.
        if self.actions(job.params).comment_has_placeholders:
            self.execute_async(job)
        else:
            super().execute(job)

    def describe(self, params: dict) -> str:
        text = (
            f"apply macro “{params['macro']['title']}” to "
            f"{describe_source(params['source'])}"
        )
        if params["source"]["type"] != "tickets":
            text += f", limit {params['limit']:,}"
        return text

    def iter_tickets(
        self, client: ZendeskClient, params: dict
    ) -> Iterator[TicketSummary]:
        if self.actions(params).comment_has_placeholders:
            _check_unchanged_since_started(client, params["macro"])
        return iter_source_tickets(client, params["source"])

    def actions(self, params: dict) -> MacroActions:
        return read_macro(
            params["macro"], current_user_id=params.get("current_user_id")
        )

    def plan_ticket(
        self, client: ZendeskClient, ticket: TicketSummary, params: dict
    ) -> TicketPlan:
        if ticket.status == "closed":
            return TicketPlan(needs_change=False, not_applicable=NOT_APPLICABLE_CLOSED)

        actions = self.actions(params)
        comment = None
        if actions.comment_has_placeholders:
            try:
                comment = _previewed_comment(client, ticket.id, actions)
            except ZendeskError as error:
                failure = f"Zendesk's preview of the macro failed: {error}"
                return TicketPlan(needs_change=False, failure=failure)

        planned = change_for(actions, ticket, comment=comment)
        change = planned.change
        if change.get("comment"):
            if _commented_by_earlier_attempt(client, ticket.id, change, params):
                return TicketPlan(needs_change=False, fields_before=planned.before)
            change = _guarded(change, ticket)
        return TicketPlan(
            needs_change=bool(change), change=change, fields_before=planned.before
        )

    def needs_change(self, ticket: TicketSummary, params: dict) -> bool:
        return bool(change_for(self.actions(params), ticket).change)

    def tags_after(
        self, tags_before: list[str], params: dict, *, change: dict
    ) -> list[str]:
        removed = set(change.get("remove_tags") or ())
        kept = [tag for tag in tags_before if tag not in removed]
        return kept + [t for t in change.get("additional_tags") or () if t not in kept]

    def describe_change(self, fields_before: dict, change: dict) -> list[str]:
        return change_lines(fields_before, change)

    def send_update(
        self,
        client: ZendeskClient,
        ticket_ids: list[int],
        params: dict,
        *,
        changes: dict[int, dict],
    ) -> dict:
        audit = {"macro_ids": [int(params["macro"]["id"])]}
        first = changes.get(ticket_ids[0], {})
        if all(changes.get(pk, {}) == first for pk in ticket_ids):
            return client.update_many(ticket_ids, {**first, **audit})
        return client.update_many_batch(
            [{"id": pk, **changes.get(pk, {}), **audit} for pk in ticket_ids]
        )

    def find_applied(
        self,
        client: ZendeskClient,
        ticket_ids: list[int],
        params: dict,
        *,
        changes: dict[int, dict],
        since: datetime,
    ) -> dict[int, bool | None]:
        """A ticket whose change adds a comment carries it when the comment
        is there, written since `since` (the job's start, or that of the
        first job of its retry chain): reading the fields would not tell a
        second application from the first. Other tickets carry their change
        when their fields show it."""
        with_comment = [pk for pk in ticket_ids if changes.get(pk, {}).get("comment")]
        found = {
            pk: _has_comment(client, pk, changes[pk]["comment"], since)
            for pk in with_comment
        }
        others = [pk for pk in ticket_ids if pk not in found]
        if others:
            found |= super().find_applied(
                client, others, params, changes=changes, since=since
            )
        return found


def _check_unchanged_since_started(client: ZendeskClient, snapshot: dict) -> None:
    """The job applies the macro's actions as they were when it started, but
    Zendesk's preview writes the comment of the macro as it is now: refuse
    to mix the two."""
    title = snapshot["title"]
    try:
        live = client.get_macro(int(snapshot["id"]))
    except NotFoundError:
        raise ToolError(
            f"The macro “{title}” is no longer in Zendesk, and its comment "
            "needs Zendesk's preview of it."
        ) from None
    if live.get("actions") != snapshot["actions"] or not live.get("active"):
        raise ToolError(
            f"The macro “{title}” was changed or turned off in Zendesk after "
            "this job started. Start a new job to apply it as it is now."
        )


def _guarded(change: dict, ticket: TicketSummary) -> dict:
    """The change as a safe update: Zendesk refuses it once the ticket has
    changed since the snapshot it was planned from. So a chunk sent twice
    (its answer lost, or its worker killed in between) cannot add its
    comment twice, whichever copy Zendesk runs first, however late."""
    if not ticket.updated_at:
        return change
    return {**change, "safe_update": True, "updated_stamp": ticket.updated_at}


def _commented_by_earlier_attempt(
    client: ZendeskClient, ticket_id: int, change: dict, params: dict
) -> bool:
    """For a retry: whether an earlier job of the chain added the comment
    after all (Zendesk may carry out an update whose answer was lost, after
    the job has recorded the ticket failed)."""
    since = params.get(ATTEMPTS_SINCE)
    if not since:
        return False
    first_attempt = datetime.fromisoformat(since) - CLOCK_MARGIN
    return bool(_has_comment(client, ticket_id, change["comment"], first_attempt))


def _previewed_comment(
    client: ZendeskClient, ticket_id: int, actions: MacroActions
) -> dict[str, Any]:
    """The macro's comment as Zendesk renders it on this ticket."""
    rendered = client.preview_macro(ticket_id, actions.macro_id).get("comment") or {}
    public = rendered.get("public", actions.comment.get("public", True))
    if "html_body" in actions.comment and rendered.get("html_body"):
        return {"html_body": rendered["html_body"], "public": public}
    return {"body": rendered.get("body") or "", "public": public}


def _has_comment(
    client: ZendeskClient, ticket_id: int, comment: dict, since: datetime
) -> bool | None:
    wanted = _words(comment.get("body") or comment.get("html_body") or "")
    try:
        for existing in client.iter_ticket_comments(ticket_id, newest_first=True):
            if _created_at(existing) < since:
                return False
            if wanted in _renderings(existing):
                return True
    except NotFoundError:
        return None
    return False


def _renderings(comment: dict) -> set[str]:
    """A stored comment as text, from each form Zendesk keeps it in."""
    kinds = ("body", "plain_body", "html_body")
    return {_words(comment[kind]) for kind in kinds if comment.get(kind)}


def _words(text: str) -> str:
    """The comment's characters without markup, entities or white space:
    Zendesk renders HTML to text (and text to HTML) in its own way, with
    its own line breaks, so only the words themselves are compared."""
    return "".join(unescape(strip_tags(text)).split())


def _created_at(comment: dict) -> datetime:
    return datetime.fromisoformat(str(comment["created_at"]).replace("Z", "+00:00"))
