from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from accounts.roles import visible_jobs
from jobs.models import Job, TicketResult
from tools.registry import get_tool

JOBS_PER_PAGE = 25


@require_GET
@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = _visible_jobs(request).select_related("tool", "created_by")
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"job": job, "description": get_tool(job.tool.slug).describe(job.params)}
        for job in page
    ]
    return render(request, "jobs/list.html", {"page": page, "rows": rows})


@require_GET
@login_required
@vary_on_headers("HX-Request")
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page; an htmx request gets only the progress fragment."""
    job = get_object_or_404(_visible_jobs(request).select_related("tool"), pk=pk)
    context = {"job": job, **_progress_figures(job)}

    if request.htmx:
        response = render(request, "jobs/_progress.html", context)
        if job.is_finished:
            # Only a running job's page polls: reload it whole once, so the
            # results table appears with the final figures.
            response["HX-Refresh"] = "true"
        return response

    context["description"] = get_tool(job.tool.slug).describe(job.params)
    context["sample"] = _sample_rows(job, _sample_results(job))
    return render(request, "jobs/detail.html", context)


def _visible_jobs(request: HttpRequest) -> QuerySet[Job]:
    return visible_jobs(request.user)


def _progress_figures(job: Job) -> dict:
    """Rate and time left, from what the database says has been done."""
    figures = {"rate": None, "seconds_left": None, "elapsed": None}
    if not job.started_at:
        return figures

    end = job.finished_at or timezone.now()
    elapsed = max((end - job.started_at).total_seconds(), 0.001)
    figures["elapsed"] = elapsed
    if not job.processed:
        return figures

    rate = job.processed / elapsed
    figures["rate"] = rate
    if not job.is_finished and job.phase == Job.Phase.UPDATING:
        figures["seconds_left"] = max(job.total - job.processed, 0) / rate
    return figures


def _sample_results(job: Job) -> QuerySet[TicketResult]:
    """The rows worth a first look: what a dry run would change, or failures."""
    if job.dry_run:
        return job.results.filter(outcome=TicketResult.Outcome.WOULD_CHANGE)
    if job.failed:
        return job.results.filter(outcome=TicketResult.Outcome.FAILED)
    return job.results.all()


def _sample_rows(job: Job, results: QuerySet, size: int = 20) -> list[dict]:
    tool = get_tool(job.tool.slug)
    changed = {TicketResult.Outcome.UPDATED, TicketResult.Outcome.WOULD_CHANGE}
    return [
        {
            "result": result,
            "tags_after": (
                tool.tags_after(list(result.tags_before), job.params)
                if result.outcome in changed
                else result.tags_before
            ),
        }
        for result in results[:size]
    ]
