"""Macro Search's page and downloads.

One GET URL serves the whole page, or with htmx only the results, so a
search is a link that can be shared or bookmarked; the downloads take the
same query string.
"""

import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    QueryDict,
)
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tools.access import can_use_tool, is_turned_off, turned_off_message
from tools.base import BaseTool
from tools.macro_export import export_response
from tools.macro_matching import MacroMatch, find_macros
from tools.macro_search import MacroSearch, MacroSearchForm
from tools.macros import load_macros, macro_url
from tools.registry import get_tool
from zendesk import AuthenticationError, ConfigurationError, ServerError, ZendeskError

logger = logging.getLogger(__name__)


@dataclass
class Search:
    form: MacroSearchForm
    matches: list[MacroMatch] = field(default_factory=list)
    error: str = ""

    @property
    def done(self) -> bool:
        """Whether Zendesk was asked and answered."""
        return self.form.is_bound and self.form.is_valid() and not self.error

    @property
    def query_string(self) -> str:
        """The search as URL parameters, for the download links."""
        data = self.form.cleaned_data
        params = {"q": data["q"]}
        if data["include_inactive"]:
            params["include_inactive"] = "on"
        return urlencode(params)


def run_search(params: QueryDict) -> Search:
    """The search the parameters ask for; no query at all is a fresh page."""
    if "q" not in params:
        return Search(form=MacroSearchForm())

    search = Search(form=MacroSearchForm(params))
    if not search.form.is_valid():
        return search

    try:
        macros = load_macros()
    except ZendeskError as error:
        logger.warning("Could not load macros from Zendesk: %s", error)
        search.error = zendesk_trouble(error)
        return search

    data = search.form.cleaned_data
    search.matches = find_macros(
        macros, data["q"], include_inactive=data["include_inactive"]
    )
    return search


def search_page(request: HttpRequest, tool: BaseTool) -> HttpResponse:
    """The tool's page; `tools.views.tool_form` has checked who may see it."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])

    search = run_search(request.GET)
    rows = [(match, macro_url(match.id)) for match in search.matches]
    context = {
        "tool": tool,
        "search": search,
        "rows": rows,
        "no_links": any(url is None for _, url in rows),
    }

    # Going back to a pushed URL whose page htmx no longer holds asks for the
    # whole page again, with HX-Request set.
    partial = request.htmx and not request.htmx.history_restore_request
    template = (
        "tools/_macro_search_results.html" if partial else "tools/macro_search.html"
    )
    return render(request, template, context)


@require_GET
@login_required
def export(request: HttpRequest, kind: str) -> HttpResponse:
    """The current search's matches as a file; errors answer in plain text."""
    tool = get_tool(MacroSearch.slug)
    if is_turned_off(tool):
        raise Http404(turned_off_message(tool))
    if not can_use_tool(request.user, tool):
        raise Http404("This tool is not available to you.")

    search = run_search(request.GET)
    if not search.form.is_bound or not search.form.is_valid():
        problems = search.form.errors.get("q") or ["Enter the text to look for."]
        return _plain_text(" ".join(problems), status=400)
    if search.error:
        return _plain_text(search.error, status=502)

    return export_response(search.matches, search.form.cleaned_data["q"], kind)


def zendesk_trouble(error: ZendeskError) -> str:
    """Why the macros could not be read, in words a person can act on."""
    if isinstance(error, ConfigurationError):
        return f"The Zendesk connection is not configured: {error.message}."
    if isinstance(error, AuthenticationError):
        return (
            "Zendesk refused the configured credentials, so the macros could not "
            "be read. A supervisor can test the connection in the admin."
        )
    if isinstance(error, ServerError):
        return (
            "Zendesk could not be reached or did not answer in time, so the "
            "macros could not be read. Try again in a minute."
        )
    return f"Zendesk answered with an error when asked for the macros: {error}"


def _plain_text(message: str, *, status: int) -> HttpResponse:
    return HttpResponse(
        message, status=status, content_type="text/plain; charset=utf-8"
    )
