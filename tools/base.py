"""What every tool is made of.

A tool is a class (its code: form, how it picks tickets, what it changes) plus
a `Tool` row (its settings: enabled, admin-only, ticket limits), joined by
slug. Bulk tools hand their work to the job engine, which calls back into the
hooks below; the engine itself knows nothing about tags or macros.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django import forms

from zendesk import TicketSummary, ZendeskClient

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from jobs.models import Job
    from tools.models import Tool


# Zendesk's clock and ours may differ: a change seen on a ticket counts as a
# job's own if it is no older than the job, less this much.
CLOCK_MARGIN = timedelta(minutes=2)
# In a retry's params: when the first job of the chain was created, so that
# changes made by any earlier attempt are recognised.
ATTEMPTS_SINCE = "attempts_since"


class ToolError(Exception):
    """A tool cannot go on with a job; the message says why, for people."""


@dataclass(frozen=True)
class TicketPlan:
    """What a tool means to do to one ticket, decided from the snapshot taken
    before anything changes."""

    needs_change: bool
    # The ticket's own change, for tools whose changes differ per ticket;
    # empty when the job's parameters say it all.
    change: dict[str, Any] = field(default_factory=dict)
    # The fields the change touches, as they were: shown beside the change.
    fields_before: dict[str, Any] = field(default_factory=dict)
    # Why the tool leaves this ticket alone, by design rather than failure.
    not_applicable: str = ""
    # Why the ticket cannot be changed, found before sending anything.
    failure: str = ""


class BaseTool:
    name: str = ""
    slug: str = ""
    description: str = ""
    category: str = ""
    requires_admin: bool = False
    # Whether a ticket's change goes beyond its tags, shown on the job page.
    describes_changes: bool = False
    form_class: type[forms.Form] = forms.Form
    # A tool that only reads, answering in the request on a page of its own
    # (`page`) instead of the bulk tools' form and job.
    has_own_page: bool = False

    def supports_async(self) -> bool:
        return True

    def page(self, request: "HttpRequest") -> "HttpResponse":
        """The tool's page, once the tool page has checked who may see it."""
        raise NotImplementedError

    def get_row(self) -> "Tool":
        from tools.models import Tool

        row, _ = Tool.objects.get_or_create(
            slug=self.slug,
            defaults={
                "name": self.name,
                "category": self.category,
                "requires_admin": self.requires_admin,
            },
        )
        return row

    def get_ticket_limit(self, async_mode: bool) -> int:
        row = self.get_row()
        return row.background_ticket_limit if async_mode else row.inline_ticket_limit

    def get_form(self, *args: Any, **kwargs: Any) -> forms.Form:
        return self.form_class(*args, tool=self, **kwargs)

    def describe(self, params: dict) -> str:
        """The job's parameters in words, for people."""
        raise NotImplementedError

    def execute(self, job: "Job") -> None:
        """Run the job in this process, now, or hand it to a worker if it
        turns out bigger than the inline limit."""
        from jobs.services import job_run

        # The user is sent to the job page, which tells how the run ended, so
        # an unexpected error is recorded there rather than raised here.
        job_run(
            job_id=job.pk,
            inline_limit=self.get_ticket_limit(async_mode=False),
            raise_unexpected=False,
        )

    def execute_async(self, job: "Job") -> None:
        """Hand the job to a worker."""
        from jobs.services import job_enqueue

        job_enqueue(job=job)

    # Hooks the engine calls.

    def iter_tickets(
        self, client: ZendeskClient, params: dict
    ) -> Iterator[TicketSummary]:
        raise NotImplementedError

    def plan_ticket(
        self, client: ZendeskClient, ticket: TicketSummary, params: dict
    ) -> TicketPlan:
        return TicketPlan(needs_change=self.needs_change(ticket, params))

    def needs_change(self, ticket: TicketSummary, params: dict) -> bool:
        raise NotImplementedError

    def tags_after(
        self, tags_before: list[str], params: dict, *, change: dict
    ) -> list[str]:
        """The ticket's tags once changed, for the job page."""
        raise NotImplementedError

    def describe_change(self, fields_before: dict, change: dict) -> list[str]:
        """A ticket's change beyond its tags, in lines for people; nothing
        for tools whose parameters already say it all."""
        return []

    def send_update(
        self,
        client: ZendeskClient,
        ticket_ids: list[int],
        params: dict,
        *,
        changes: dict[int, dict],
    ) -> dict:
        """Send one update_many call; return Zendesk's job_status. `changes`
        holds each ticket's planned change (empty for uniform tools)."""
        raise NotImplementedError

    def find_applied(
        self,
        client: ZendeskClient,
        ticket_ids: list[int],
        params: dict,
        *,
        changes: dict[int, dict],
        since: datetime,
    ) -> dict[int, bool | None]:
        """Whether each ticket already carries the change (None: the ticket
        is gone). Asked when it is unknown whether Zendesk applied a chunk,
        before sending it again or giving up on it.

        By default a ticket carries the change when it no longer needs it,
        which holds for changes that can be made twice without harm."""
        found = {
            int(ticket["id"]): TicketSummary.from_api(ticket)
            for ticket in client.show_tickets(ticket_ids)
        }
        return {
            ticket_id: (
                None
                if ticket_id not in found
                else not self.needs_change(found[ticket_id], params)
            )
            for ticket_id in ticket_ids
        }
