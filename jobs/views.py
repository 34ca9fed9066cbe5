import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from accounts.roles import can_manage_job, visible_jobs
from jobs.exports import export_response
from jobs.filters import JobFilterForm
from jobs.models import Job, TicketResult
from jobs.services import JobRefused, failed_ticket_ids, job_cancel, job_retry
from tools.registry import get_tool

logger = logging.getLogger(__name__)

JOBS_PER_PAGE = 25
RESULTS_PER_PAGE = 50
# The retry page lists this many of the failed tickets by id; the rest are
# one click away in the job's results, filtered to the failures.
RETRY_LISTED_TICKETS = 500


@require_GET
@login_required
@vary_on_headers("HX-Request")
def job_list(request: HttpRequest) -> HttpResponse:
    """The jobs the user may see, newest first. While any job on the page is
    under way, the table polls for itself (an htmx request gets the table
    alone)."""
    filters = JobFilterForm(request.GET)
    jobs = filters.apply(visible_jobs(request.user))
    jobs = jobs.select_related("tool", "created_by")
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"job": job, "description": get_tool(job.tool.slug).describe(job.params)}
        for job in page
    ]
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "any_under_way": any(not row["job"].is_finished for row in rows),
    }
    template = "jobs/_job_table.html" if request.htmx else "jobs/list.html"
    return render(request, template, context)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page; an htmx request gets only the progress fragment."""
    job = _visible_job(request, pk)
    context = _progress_context(request, job)

    if request.htmx:
        response = render(request, "jobs/_progress.html", context)
        if job.is_finished:
            # Only a running job's page polls: reload it whole once, so the
            # results table appears with the final figures.
            response["HX-Refresh"] = "true"
        return response

    context |= _results_context(request, job)
    context["description"] = get_tool(job.tool.slug).describe(job.params)
    context["can_retry"] = context["can_manage"] and _has_retryable_failures(job)
    return render(request, "jobs/detail.html", context)


@require_POST
@login_required
def job_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel from the job page's button (htmx: answers with the progress
    fragment, saying what happened)."""
    job = _managed_job(request, pk)

    if job_cancel(job=job):
        job.refresh_from_db()
        notice = (
            "Cancelled: the job stops before its next chunk."
            if job.status == Job.Status.RUNNING
            else "Cancelled before it started: nothing was changed."
        )
    else:
        job.refresh_from_db()
        notice = (
            f"Job {job.pk} had already ended "
            f"({job.get_status_display().lower()}); there was nothing to cancel."
        )
    logger.info("Job %s: cancel asked by %s: %s", job.pk, request.user, notice)

    if request.htmx:
        context = _progress_context(request, job) | {"notice": notice}
        return render(request, "jobs/_progress.html", context)
    messages.info(request, notice)
    return redirect(job)


@require_http_methods(["GET", "POST"])
@login_required
def job_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what a retry would run, the failed tickets listed. POST: run it."""
    job = _managed_job(request, pk)

    if request.method == "POST":
        return _start_retry(request, job)

    failed_ids = failed_ticket_ids(job)
    context = {
        "job": job,
        "description": get_tool(job.tool.slug).describe(job.params),
        "failed_count": len(failed_ids),
        "listed_ids": failed_ids[:RETRY_LISTED_TICKETS],
        "refusal": _retry_refusal(job, failed_ids),
    }
    return render(request, "jobs/retry_confirm.html", context)


def _start_retry(request: HttpRequest, job: Job) -> HttpResponse:
    try:
        retry = job_retry(job=job, user=request.user)
    except JobRefused as refusal:
        messages.error(request, str(refusal))
        destination = job.get_absolute_url()
    else:
        messages.success(request, f"Job {retry.pk} retries the failed tickets.")
        destination = retry.get_absolute_url()

    if request.htmx:
        return HttpResponseClientRedirect(destination)
    return redirect(destination)


@require_GET
@login_required
def job_export(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    job = get_object_or_404(visible_jobs(request.user).select_related("tool"), pk=pk)
    return export_response([job], kind)


def _visible_job(request: HttpRequest, pk: int) -> Job:
    jobs = visible_jobs(request.user).select_related("tool", "created_by")
    return get_object_or_404(jobs, pk=pk)


def _managed_job(request: HttpRequest, pk: int) -> Job:
    """A job the user may see (404 otherwise) and manage (403 otherwise)."""
    job = _visible_job(request, pk)
    if not can_manage_job(request.user, job):
        raise PermissionDenied("You may look at this job but not change it.")
    return job


def _retry_refusal(job: Job, failed_ids: list[int]) -> str:
    """Why a retry cannot start, said before the user asks; "" if it can."""
    if not job.is_finished:
        return "The job is still under way; retry it once it has ended."
    if job.dry_run:
        return "A dry run changed nothing; start a real run from the tool instead."
    if not failed_ids:
        return "No ticket failed in this job: there is nothing to retry."
    return ""


def _has_retryable_failures(job: Job) -> bool:
    return job.is_finished and not job.dry_run and job.failed > 0


def _progress_context(request: HttpRequest, job: Job) -> dict:
    return {
        "job": job,
        "can_manage": can_manage_job(request.user, job),
        **_progress_figures(job),
    }


def _progress_figures(job: Job) -> dict:
    """Rate and time left, from what the database says the current run has
    done (a resumed job's time stopped does not count), and the time taken."""
    figures = {"rate": None, "seconds_left": None, "elapsed": None}
    if not job.started_at:
        return figures

    end = job.finished_at or timezone.now()
    figures["elapsed"] = max((end - job.started_at).total_seconds(), 0.001)
    run_start = job.run_started_at or job.started_at
    run_elapsed = max((end - run_start).total_seconds(), 0.001)
    done_this_run = job.processed - job.processed_at_run_start
    if done_this_run <= 0:
        return figures

    rate = done_this_run / run_elapsed
    figures["rate"] = rate
    if not job.is_finished and job.phase == Job.Phase.UPDATING:
        figures["seconds_left"] = max(job.total - job.processed, 0) / rate
    return figures


def _results_context(request: HttpRequest, job: Job) -> dict:
    """A page of the job's per-ticket results, filtered by outcome."""
    outcome = request.GET.get("outcome", "")
    if outcome not in TicketResult.Outcome.values:
        outcome = ""
    results = job.results.order_by("id")
    if outcome:
        results = results.filter(outcome=outcome)
    page = Paginator(results, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "results_page": page,
        "result_rows": _result_rows(job, page),
        "shows_changes": get_tool(job.tool.slug).describes_changes,
        "outcome": outcome,
        "outcome_counts": _outcome_counts(job),
        "retries": list(job.retries.values_list("pk", flat=True)),
    }


def _outcome_counts(job: Job) -> list[dict]:
    counted = dict(
        job.results.values_list("outcome").annotate(n=Count("id")).order_by()
    )
    return [
        {"value": value, "label": label, "count": counted[value]}
        for value, label in TicketResult.Outcome.choices
        if counted.get(value)
    ]


def _result_rows(job: Job, results: QuerySet | list) -> list[dict]:
    tool = get_tool(job.tool.slug)
    changed = {TicketResult.Outcome.UPDATED, TicketResult.Outcome.WOULD_CHANGE}
    return [
        {
            "result": result,
            "tags_after": (
                tool.tags_after(
                    list(result.tags_before), job.params, change=result.change
                )
                if result.outcome in changed
                else result.tags_before
            ),
            "change_lines": tool.describe_change(result.fields_before, result.change),
        }
        for result in results
    ]
