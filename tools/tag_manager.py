"""The Tag Manager: add or remove tags on every ticket of a Zendesk view, a
search, or a list of tickets (pasted, uploaded, or an earlier job's
failures)."""

from collections.abc import Iterator

from django import forms

from tools.base import BaseTool
from tools.registry import register
from tools.source_form import TicketSourceForm
from tools.sources import describe_source, is_listed, iter_source_tickets
from tools.tags import TagError, normalise_tags
from zendesk import TicketSummary, ZendeskClient

ADD = "add"
REMOVE = "remove"


class TagManagerForm(TicketSourceForm):
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
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run: show what would change, change nothing",
    )

    def clean_tags(self) -> list[str]:
        try:
            tags = normalise_tags(self.cleaned_data["tags"])
        except TagError as error:
            raise forms.ValidationError(str(error)) from error
        if not tags:
            raise forms.ValidationError("Enter at least one tag.")
        return tags

    def job_params(self) -> dict:
        return {
            "source": self.source_params(),
            "operation": self.cleaned_data["operation"],
            "tags": self.cleaned_data["tags"],
            "limit": self.run_limit(),
            "dry_run": self.cleaned_data["dry_run"],
        }


@register
class TagManager(BaseTool):
    name = "Tag Manager"
    slug = "tag-manager"
    description = "Add or remove tags on every ticket of a view, a search or a list."
    category = "Tags"
    form_class = TagManagerForm

    def describe(self, params: dict) -> str:
        tags = ", ".join(params["tags"])
        verb, preposition = (
            ("add", "to") if params["operation"] == ADD else ("remove", "from")
        )
        noun = "tag" if len(params["tags"]) == 1 else "tags"
        source = params["source"]
        if is_listed(source):
            return f"{verb} {noun} {tags} ({describe_source(source)})"
        return (
            f"{verb} {noun} {tags} {preposition} {describe_source(source)}, "
            f"limit {params['limit']:,}"
        )

    def iter_tickets(
        self, client: ZendeskClient, params: dict
    ) -> Iterator[TicketSummary]:
        return iter_source_tickets(client, params["source"])

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
