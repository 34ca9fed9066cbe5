import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from jobs.services import job_start
from tools.access import can_use_tool, is_turned_off, turned_off_message
from tools.base import BaseTool
from tools.registry import all_tools, get_tool
from tools.sources import ViewChoice, load_active_views
from tools.tags import TagError, normalise_tags
from zendesk import ZendeskError

logger = logging.getLogger(__name__)


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    tools = [tool for tool in all_tools() if can_use_tool(request.user, tool)]
    categories: dict[str, list[BaseTool]] = {}
    for tool in sorted(tools, key=lambda tool: (tool.category, tool.name)):
        categories.setdefault(tool.category, []).append(tool)
    return render(request, "tools/dashboard.html", {"categories": categories})


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def tool_form(request: HttpRequest, slug: str) -> HttpResponse:
    tool = _known_tool(slug)
    if is_turned_off(tool):
        return _turned_off(request, tool)
    if not can_use_tool(request.user, tool):
        raise Http404("This tool is not available to you.")
    if tool.has_own_page:
        return tool.page(request)

    views, load_error = _views_or_error()
    form = tool.get_form(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        views=views,
        views_error=load_error,
    )

    # Views that failed to load block only the view source (see the form).
    if request.method == "POST" and form.is_valid():
        job = job_start(
            tool=tool,
            user=request.user,
            params=form.job_params(),
            expected_tickets=form.expected_ticket_count(),
        )
        if request.htmx:
            return HttpResponseClientRedirect(job.get_absolute_url())
        return redirect(job)

    context = {"tool": tool, "form": form, "load_error": load_error}
    template = "tools/_tool_form.html" if request.htmx else "tools/tool_form.html"
    return render(request, template, context)


@require_POST
@login_required
def preview_tags(request: HttpRequest) -> HttpResponse:
    """Show how typed tags will be stored, before anything runs."""
    raw = request.POST.get("tags", "")
    try:
        tags, error = normalise_tags(raw), ""
    except TagError as problem:
        tags, error = [], str(problem)
    return render(request, "tools/_tag_preview.html", {"tags": tags, "error": error})


def _known_tool(slug: str) -> BaseTool:
    try:
        return get_tool(slug)
    except KeyError:
        raise Http404("There is no tool with that name.") from None


def _turned_off(request: HttpRequest, tool: BaseTool) -> HttpResponse:
    """A 404, like any tool the user cannot see, but saying why in words.

    htmx does not swap error answers in, so its requests get the sentence as
    plain text, which app.js shows in the page's notice.
    """
    message = turned_off_message(tool)
    if request.htmx:
        return HttpResponse(
            message, status=404, content_type="text/plain; charset=utf-8"
        )
    return render(request, "404.html", {"message": message}, status=404)


def _views_or_error() -> tuple[list[ViewChoice], str]:
    try:
        return load_active_views(), ""
    except ZendeskError as error:
        logger.warning("Could not load views from Zendesk: %s", error)
        return [], f"The list of views could not be loaded from Zendesk: {error}"
