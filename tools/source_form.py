"""The part of a bulk tool's form that picks the tickets: a view, a search
query, or a list of ids pasted or uploaded, plus the run's ticket limit.

A tool's form subclasses TicketSourceForm, adds its own fields, and builds
its job parameters from `source_params()` and `run_limit()`. Only the chosen
source is checked, so a stale view or a half-typed query in another part of
the form never blocks a run.
"""

import logging

from django import forms
from django.core.validators import MaxValueValidator

from tools.base import BaseTool
from tools.sources import (
    PAGE_CLIENT_OPTIONS,
    SEARCH_SOURCE,
    TICKETS_SOURCE,
    VIEW_SOURCE,
    ViewChoice,
    search_source,
    ticket_list_source,
    view_source,
)
from tools.ticket_ids import TicketIdError, TicketIdList, ids_from_file, ids_from_text
from zendesk import InvalidSearchError, ZendeskClient, ZendeskError

logger = logging.getLogger(__name__)

# Each source's own fields, and the classes the template uses to show only
# the chosen source's fields (see app.css; without it every field shows).
SOURCE_FIELDS = {
    VIEW_SOURCE: ("view",),
    SEARCH_SOURCE: ("query",),
    TICKETS_SOURCE: ("ticket_ids", "ticket_file"),
}
LIMITED_SOURCES = (VIEW_SOURCE, SEARCH_SOURCE)


class TicketSourceForm(forms.Form):
    source = forms.ChoiceField(
        label="Tickets from",
        choices=[
            (VIEW_SOURCE, "A view"),
            (SEARCH_SOURCE, "A search query"),
            (TICKETS_SOURCE, "A list of ticket ids"),
        ],
        initial=VIEW_SOURCE,
        widget=forms.RadioSelect,
        # Scripts and pages from before sources existed name only a view.
        required=False,
    )
    # Checked in clean() only when the view is the chosen source.
    view = forms.CharField(label="View", required=False, widget=forms.Select)
    query = forms.CharField(
        label="Search query",
        required=False,
        max_length=1000,
        help_text=(
            "Zendesk search syntax, e.g. status<solved tags:vip "
            "created>2026-01-01. Only tickets are searched."
        ),
    )
    ticket_ids = forms.CharField(
        label="Ticket ids",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Paste ids separated by commas, spaces or new lines…",
    )
    ticket_file = forms.FileField(
        label="…or upload a CSV file",
        required=False,
        allow_empty_file=True,
        help_text=(
            "A CSV file with a column named id or ticket_id, or a single column "
            "of ids; any other file is read as a plain list."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )
    limit = forms.IntegerField(
        label="Ticket limit",
        min_value=1,
        initial=10_000,
        help_text=(
            "Take at most this many tickets from the view or search, counting "
            "those already correct."
        ),
        error_messages={
            "required": "Enter how many tickets to change at most.",
            "invalid": "Enter the ticket limit as a whole number.",
            "min_value": "The ticket limit must be at least 1.",
        },
    )

    def __init__(
        self,
        *args,
        tool: BaseTool,
        views: list[ViewChoice] = (),
        views_error: str = "",
        client: ZendeskClient | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tool = tool
        self.most_tickets = tool.get_ticket_limit(async_mode=True)
        self.views = {view.id: view for view in views}
        self.views_error = views_error
        self._client = client
        self._source: dict | None = None
        self._estimate: int | None = None

        self.fields["view"].widget.choices = [("", "Choose a view")] + [
            (view.id, view.label) for view in views
        ]
        self._cap_limit()
        self._mark_source_fields()

    def _cap_limit(self) -> None:
        most = self.most_tickets
        limit_field = self.fields["limit"]
        limit_field.validators.append(
            MaxValueValidator(
                most, message=f"This tool changes at most {most:,} tickets a run."
            )
        )
        limit_field.widget.attrs["max"] = most

    def _mark_source_fields(self) -> None:
        for source, names in SOURCE_FIELDS.items():
            for name in names:
                self.fields[name].source_css = f"source-part source-{source}"
        self.fields["limit"].source_css = "source-part " + " ".join(
            f"source-{source}" for source in LIMITED_SOURCES
        )

    # Checking

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen = cleaned.get("source") or VIEW_SOURCE
        cleaned["source"] = chosen

        if chosen == VIEW_SOURCE:
            self._clean_view(cleaned.get("view", ""))
        elif chosen == SEARCH_SOURCE:
            self._clean_search(cleaned.get("query", "").strip())
        else:
            # A list is as long as it is; the limit field is not even shown,
            # so a problem with it must not block the run.
            self.errors.pop("limit", None)
            self._clean_ticket_list(cleaned.get("ticket_ids", ""))
        return cleaned

    def _clean_view(self, raw: str) -> None:
        if self.views_error:
            self.add_error(
                "view", "The views could not be loaded; choose another source."
            )
            return
        if not raw:
            self.add_error("view", "Choose a view.")
            return

        view = self.views.get(int(raw)) if raw.isdigit() else None
        if view is None:
            self.add_error("view", "Choose one of the active views in the list.")
            return
        self._source, self._estimate = view_source(view), view.count

    def _clean_search(self, query: str) -> None:
        if "query" in self.errors:
            return  # too long, say: that message is enough
        if not query:
            self.add_error("query", "Enter a search query.")
            return

        try:
            count = self._search_client().count_search(query)
        except InvalidSearchError as error:
            self.add_error("query", f"Zendesk cannot run this search: {error}")
            return
        except ZendeskError as error:
            logger.warning("Could not count a search in Zendesk: %s", error)
            self.add_error("query", f"The search could not be checked: {error}")
            return

        if count == 0:
            self.add_error("query", "No tickets match this search.")
            return
        self._source, self._estimate = search_source(query), count

    def _search_client(self) -> ZendeskClient:
        if self._client is None:
            # A person is waiting: short waits, as for the list of views.
            self._client = ZendeskClient.from_settings(**PAGE_CLIENT_OPTIONS)
        return self._client

    def _clean_ticket_list(self, pasted: str) -> None:
        upload = self.cleaned_data.get("ticket_file")
        if upload and pasted.strip():
            self.add_error(
                "ticket_ids", "Paste ids or upload a file, not both: clear one."
            )
            return
        if not upload and not pasted.strip():
            self.add_error("ticket_ids", "Paste ticket ids or upload a CSV file.")
            return

        field = "ticket_file" if upload else "ticket_ids"
        try:
            if upload:
                listed = ids_from_file(upload, upload.name, most=self.most_tickets)
            else:
                listed = ids_from_text(pasted, most=self.most_tickets)
        except TicketIdError as error:
            self.add_error(field, error.problems)
            return

        title = _list_title(listed, upload.name if upload else None)
        self._source = ticket_list_source(listed.ids, title)
        self._estimate = listed.count

    # What the tool builds its job from, once the form is valid.

    def source_params(self) -> dict:
        """The job's params["source"]."""
        assert self._source is not None, "call is_valid() first"
        return self._source

    def run_limit(self) -> int:
        """The job's params["limit"]: the chosen limit for a view or a search,
        the list's length for a list of ids."""
        if self._source["type"] == TICKETS_SOURCE:
            return len(self._source["ids"])
        return self.cleaned_data["limit"]

    def expected_ticket_count(self) -> int | None:
        """How many tickets the run will probably touch. Zendesk's counts may
        be stale, so this only guides where the run starts."""
        limit = self.run_limit()
        return limit if self._estimate is None else min(self._estimate, limit)


def _list_title(listed: TicketIdList, file_name: str | None) -> str:
    noun = "ticket" if listed.count == 1 else "tickets"
    if file_name:
        title = f"{listed.count:,} {noun} from {_short_name(file_name)}"
    else:
        title = f"a pasted list of {listed.count:,} {noun}"
    if listed.repeats:
        title += f", {listed.repeats:,} repeated ids left out"
    return title


def _short_name(file_name: str) -> str:
    return file_name if len(file_name) <= 60 else file_name[:59] + "…"
