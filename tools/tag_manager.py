"""The Tag Manager: add or remove tags on every ticket of a Zendesk view, or
on a list of tickets (a retry of an earlier job's failures)."""

from collections.abc import Iterator

from django import forms
from django.core.validators import MaxValueValidator

from tools.base import BaseTool
from tools.registry import register
from tools.sources import ViewChoice, iter_listed_tickets
from tools.tags import TagError, normalise_tags
from zendesk import TicketSummary, ZendeskClient

ADD = "add"
REMOVE = "remove"

# Where the tickets come from: params["source"]["type"].
VIEW_SOURCE = "view"
TICKETS_SOURCE = "tickets"


class TagManagerForm(forms.Form):
    view = forms.TypedChoiceField(
        coerce=int,
        label="View",
        error_messages={
            "invalid_choice": "Choose one of the active views in the list.",
            "required": "Choose a view.",
        },
    )
    operation = forms.ChoiceField(
        choices=[(ADD, "Add tags"), (REMOVE, "Remove tags")],
        initial=ADD,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to add or remove the tags."},
    )
    tags = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=(
            "Separate tags with commas, spaces or new lines. Zendesk stores "
            "them lower-cased."
        ),
        error_messages={"required": "Enter at least one tag."},
    )
    limit = forms.IntegerField(
        label="Ticket limit",
        min_value=1,
        initial=10_000,
        help_text=(
            "Take at most this many tickets from the view, counting those "
            "already correct."
        ),
        error_messages={
            "required": "Enter how many tickets to change at most.",
            "invalid": "Enter the ticket limit as a whole number.",
            "min_value": "The ticket limit must be at least 1.",
        },
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run: show what would change, change nothing",
    )

    def __init__(self, *args, tool: BaseTool, views: list[ViewChoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.tool = tool
        self.views = {view.id: view for view in views}
        self.fields["view"].choices = [("", "Choose a view")] + [
            (view.id, view.label) for view in views
        ]

        most = tool.get_ticket_limit(async_mode=True)
        limit_field = self.fields["limit"]
        limit_field.validators.append(
            MaxValueValidator(
                most, message=f"This tool changes at most {most:,} tickets a run."
            )
        )
        limit_field.widget.attrs["max"] = most

    def clean_tags(self) -> list[str]:
        try:
            tags = normalise_tags(self.cleaned_data["tags"])
        except TagError as error:
            raise forms.ValidationError(str(error)) from error
        if not tags:
            raise forms.ValidationError("Enter at least one tag.")
        return tags

    def job_params(self) -> dict:
        view = self.views[self.cleaned_data["view"]]
        return {
            "source": {"type": VIEW_SOURCE, "id": view.id, "title": view.title},
            "operation": self.cleaned_data["operation"],
            "tags": self.cleaned_data["tags"],
            "limit": self.cleaned_data["limit"],
            "dry_run": self.cleaned_data["dry_run"],
        }

    def expected_ticket_count(self) -> int:
        """How many tickets the run will probably touch. Zendesk's view count
        may be stale, so this only guides where the run starts."""
        limit = self.cleaned_data["limit"]
        view = self.views[self.cleaned_data["view"]]
        return limit if view.count is None else min(view.count, limit)


@register
class TagManager(BaseTool):
    name = "Tag Manager"
    slug = "tag-manager"
    description = "Add or remove tags on every ticket of a view."
    category = "Tags"
    form_class = TagManagerForm

    def describe(self, params: dict) -> str:
        tags = ", ".join(params["tags"])
        verb, preposition = (
            ("add", "to") if params["operation"] == ADD else ("remove", "from")
        )
        noun = "tag" if len(params["tags"]) == 1 else "tags"
        source = params["source"]
        if source["type"] == TICKETS_SOURCE:
            return f"{verb} {noun} {tags} ({source['title']})"
        return (
            f"{verb} {noun} {tags} {preposition} view “{source['title']}”, "
            f"limit {params['limit']:,}"
        )

    def iter_tickets(
        self, client: ZendeskClient, params: dict
    ) -> Iterator[TicketSummary]:
        source = params["source"]
        if source["type"] == TICKETS_SOURCE:
            return iter_listed_tickets(client, [int(pk) for pk in source["ids"]])
        return client.iter_view_tickets(source["id"])

    def needs_change(self, ticket: TicketSummary, params: dict) -> bool:
        present = set(ticket.tags)
        if params["operation"] == ADD:
            return any(tag not in present for tag in params["tags"])
        return any(tag in present for tag in params["tags"])

    def tags_after(
        self, ticket_tags: list[str], params: dict, *, change: dict
    ) -> list[str]:
        if params["operation"] == ADD:
            return ticket_tags + [t for t in params["tags"] if t not in ticket_tags]
        return [tag for tag in ticket_tags if tag not in params["tags"]]

    def send_update(
        self,
        client: ZendeskClient,
        ticket_ids: list[int],
        params: dict,
        *,
        changes: dict[int, dict],
    ) -> dict:
        if params["operation"] == ADD:
            return client.update_many_tags(ticket_ids, additional_tags=params["tags"])
        return client.update_many_tags(ticket_ids, remove_tags=params["tags"])
