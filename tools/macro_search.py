"""Macro Search: find the macros whose title or actions mention a text.

It reads macros and changes nothing, so it answers in the request, on a page
of its own, with no job.
"""

from typing import TYPE_CHECKING, Any

from django import forms

from tools.base import BaseTool
from tools.macro_matching import MAX_QUERY_LENGTH, MIN_QUERY_LENGTH
from tools.registry import register

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


class MacroSearchForm(forms.Form):
    q = forms.CharField(
        label="Text to find",
        max_length=MAX_QUERY_LENGTH,
        widget=forms.SearchInput(
            attrs={"minlength": MIN_QUERY_LENGTH, "autofocus": True}
        ),
        help_text="Searched in macro titles and in what their actions set.",
        error_messages={
            "required": "Enter the text to look for.",
            "max_length": (
                f"Search for at most {MAX_QUERY_LENGTH} characters at a time."
            ),
        },
    )
    include_inactive = forms.BooleanField(
        required=False, initial=True, label="Include inactive macros"
    )

    def __init__(self, *args: Any, tool: BaseTool | None = None, **kwargs: Any):
        # BaseTool.get_form names the tool; this form does not need it.
        super().__init__(*args, **kwargs)

    def clean_q(self) -> str:
        query = self.cleaned_data["q"]
        # One letter matches nearly every macro: no use to anyone.
        if len(query) < MIN_QUERY_LENGTH:
            raise forms.ValidationError(
                f"Enter at least {MIN_QUERY_LENGTH} characters to look for."
            )
        return query


@register
class MacroSearch(BaseTool):
    name = "Macro Search"
    slug = "macro-search"
    description = "Find the macros whose title or actions mention a text."
    category = "Macros"
    form_class = MacroSearchForm
    has_own_page = True

    def supports_async(self) -> bool:
        return False

    def page(self, request: "HttpRequest") -> "HttpResponse":
        # Imported here: the views import this module's form.
        from tools.macro_search_views import search_page

        return search_page(request, self)
