"""The admin's pages for jobs and their per-ticket results.

Everything here is read-only: jobs change only through the service functions
(cancel, retry, re-run), which the actions below call just as the job pages
do.
"""

import logging

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.roles import MANAGE_ALL_JOBS, VIEW_ALL_JOBS, can_manage_job
from jobs.exports import export_response
from jobs.models import Job, TicketResult
from jobs.services import JobRefused, job_cancel, job_rerun, job_retry
from tools.registry import get_tool

logger = logging.getLogger(__name__)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows nobody adds, edits or deletes from the admin."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(ViewOnlyAdmin):
    list_display = [
        "id",
        "tool",
        "what",
        "status",
        "dry_run",
        "progress",
        "failed",
        "created_by",
        "created_at",
        "results_link",
    ]
    list_filter = ["status", "tool", "created_by", "created_at", "dry_run"]
    list_select_related = ["tool", "created_by"]
    search_help_text = "A job's number, or a tag it adds or removes."
    # Searching is done in get_search_results; this only shows the box.
    search_fields = ["id"]
    date_hierarchy = "created_at"
    readonly_fields = ["what", "progress", "results_link"]
    actions = ["cancel_jobs", "retry_failed_tickets", "export_results", "rerun_jobs"]

    @admin.display(description="what it does")
    def what(self, job: Job) -> str:
        return get_tool(job.tool.slug).describe(job.params)

    @admin.display(description="progress")
    def progress(self, job: Job) -> str:
        return f"{job.processed:,} / {job.total:,} ({job.percent}%)"

    @admin.display(description="per-ticket results")
    def results_link(self, job: Job) -> str:
        # A job may hold 50,000 results: an inline would load them all on
        # one page, the results' own list pages through them.
        url = reverse("admin:jobs_ticketresult_changelist")
        return format_html('<a href="{}?job__id__exact={}">Results</a>', url, job.pk)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Job], search_term: str
    ) -> tuple[QuerySet[Job], bool]:
        """Every word must match a job's number or one of its tags.

        The tags are a list inside the params JSON. Matching the JSON text
        of that list against the quoted tag works alike on SQLite and
        PostgreSQL, where JSON containment does not exist on SQLite."""
        for word in search_term.split():
            matches = Q(params__tags__icontains=f'"{word.lower()}"')
            if word.lstrip("#").isdigit():
                matches |= Q(pk=int(word.lstrip("#")))
            queryset = queryset.filter(matches)
        return queryset, False

    # Who may use the actions.

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MANAGE_ALL_JOBS)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(VIEW_ALL_JOBS)

    # The actions.

    @admin.action(description="Cancel selected jobs", permissions=["manage"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        cancelled, ended = [], []
        for job in self._managed(request, queryset):
            (cancelled if job_cancel(job=job) else ended).append(job.pk)
        if cancelled:
            self.message_user(request, f"Cancelled jobs {_numbers(cancelled)}.")
        if ended:
            message = f"Jobs {_numbers(ended)} had already ended; left as they were."
            self.message_user(request, message, messages.WARNING)

    @admin.action(
        description="Retry failed tickets of selected jobs", permissions=["manage"]
    )
    def retry_failed_tickets(
        self, request: HttpRequest, queryset: QuerySet[Job]
    ) -> None:
        self._start_each(
            request,
            self._managed(request, queryset),
            job_retry,
            "Job {new} retries the failed tickets of job {old}.",
        )

    @admin.action(
        description="Export selected jobs' results (CSV)", permissions=["export"]
    )
    def export_results(
        self, request: HttpRequest, queryset: QuerySet[Job]
    ) -> HttpResponse:
        jobs = list(queryset.select_related("tool").order_by("pk"))
        return export_response(jobs, "csv")

    @admin.action(
        description="Re-run selected jobs with the same parameters",
        permissions=["manage"],
    )
    def rerun_jobs(
        self, request: HttpRequest, queryset: QuerySet[Job]
    ) -> HttpResponse | None:
        """Asks first, the way deleting does: the confirmation page posts the
        same action back with "post" set."""
        jobs = self._managed(request, queryset.select_related("tool", "created_by"))
        if request.POST.get("post") != "yes":
            return self._rerun_confirmation(request, jobs)

        self._start_each(request, jobs, job_rerun, "Job {new} re-runs job {old}.")
        return None

    def _start_each(self, request: HttpRequest, jobs, start, said: str) -> None:
        """Start a follow-up job for each job, saying what started (`said`,
        with {new} and {old} job numbers) or why not."""
        for job in jobs:
            try:
                new = start(job=job, user=request.user)
            except JobRefused as refusal:
                self.message_user(request, str(refusal), messages.WARNING)
            else:
                self.message_user(request, said.format(new=new.pk, old=job.pk))

    def _rerun_confirmation(
        self, request: HttpRequest, jobs: list[Job]
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Re-run these jobs?",
            "opts": self.model._meta,
            "jobs": [(job, self.what(job)) for job in jobs],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "rerun_jobs",
        }
        return TemplateResponse(
            request, "admin/jobs/job/rerun_confirmation.html", context
        )

    def _managed(self, request: HttpRequest, queryset: QuerySet[Job]) -> list[Job]:
        jobs = queryset.order_by("pk")
        return [job for job in jobs if can_manage_job(request.user, job)]


@admin.register(TicketResult)
class TicketResultAdmin(ViewOnlyAdmin):
    """One job's results at a time, reached from the job's "Results" link."""

    list_display = ["ticket_id", "job", "ticket_status", "outcome", "error"]
    list_filter = ["outcome"]
    search_fields = ["=ticket_id"]
    list_per_page = 100
    # Counting every row of every job on each page is slow and tells little.
    show_full_result_count = False


def _numbers(pks: list[int]) -> str:
    return ", ".join(str(pk) for pk in pks)
