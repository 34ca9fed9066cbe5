"""What every tool is made of.

A tool is a class (its code: form, how it picks tickets, what it changes) plus
a `Tool` row (its settings: enabled, admin-only, ticket limits), joined by
slug. Bulk tools hand their work to the job engine, which calls back into the
hooks below; the engine itself knows nothing about tags or macros.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django import forms

from zendesk import TicketSummary, ZendeskClient

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from jobs.models import Job
    from tools.models import Tool


class BaseTool:
    name: str = ""
    slug: str = ""
    description: str = ""
    category: str = ""
    requires_admin: bool = False
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

    def needs_change(self, ticket_tags: list[str], params: dict) -> bool:
        raise NotImplementedError

    def tags_after(self, ticket_tags: list[str], params: dict) -> list[str]:
        raise NotImplementedError

    def send_update(
        self, client: ZendeskClient, ticket_ids: list[int], params: dict
    ) -> dict:
        """Send one update_many call; return Zendesk's job_status."""
        raise NotImplementedError
