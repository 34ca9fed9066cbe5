from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Job(models.Model):
    """One run of a tool. The database row is the source of truth for state and
    progress; Redis only carries the job's id to a worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Phase(models.TextChoices):
        COLLECTING = "collecting", "Collecting tickets"
        UPDATING = "updating", "Updating tickets"
        DONE = "done", "Done"

    FINISHED = {
        Status.SUCCEEDED,
        Status.COMPLETED_WITH_ERRORS,
        Status.FAILED,
        Status.CANCELLED,
    }

    tool = models.ForeignKey(
        "tools.Tool", on_delete=models.PROTECT, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    params = models.JSONField()
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=32, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    phase = models.CharField(
        max_length=16, choices=Phase.choices, default=Phase.COLLECTING
    )
    # Zendesk's count of the source when the job was started: display only,
    # shown until the job has taken its own list of tickets.
    estimated_total = models.PositiveIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Tickets the tool leaves alone by design (a macro is not applied to
    # closed tickets): neither a change nor a failure.
    not_applicable = models.PositiveIntegerField(default=0)
    rq_job_id = models.CharField(max_length=64, blank=True)
    # Who is running the job right now. A run claims the job by writing a
    # fresh token; every write it makes afterwards is conditional on that
    # token, so a run that lost its claim can change nothing.
    claim_token = models.CharField(max_length=32, blank=True)
    claim_host = models.CharField(max_length=255, blank=True)
    claim_pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    # How many times the job was picked up again after its run stopped.
    resumed_count = models.PositiveIntegerField(default=0)
    # When the current run claimed the job, and how far the job had got by
    # then: the rate shown is this run's, not diluted by time spent stopped.
    run_started_at = models.DateTimeField(null=True, blank=True)
    processed_at_run_start = models.PositiveIntegerField(default=0)
    # Set by whoever cancels a running job; the run reads it before every
    # chunk and stops there.
    cancel_requested = models.BooleanField(default=False)
    error_message = models.TextField(blank=True)
    # The job whose failed tickets this one tries again.
    retry_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retries",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The roles are built from these (accounts/roles.py); starting jobs
        # is Django's own "add job" permission.
        permissions = [
            ("view_all_jobs", "Can see everyone's jobs"),
            ("manage_all_jobs", "Can cancel, retry and re-run everyone's jobs"),
            ("view_queue_dashboards", "Can see the queue dashboards"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("jobs:detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def seconds_silent(self) -> float | None:
        """For a running job whose heartbeat is overdue: how long since it
        was last heard from. None while the job looks alive."""
        if self.status != self.Status.RUNNING or self.heartbeat_at is None:
            return None
        silent = (timezone.now() - self.heartbeat_at).total_seconds()
        overdue = 2 * settings.JOB_HEARTBEAT_SECONDS
        return silent if silent > overdue else None

    @property
    def percent(self) -> int:
        if self.phase == self.Phase.COLLECTING:
            return 0  # nothing is changed before the list is whole
        if not self.total:
            return 100 if self.status == self.Status.SUCCEEDED else 0
        return min(100, self.processed * 100 // self.total)

    @property
    def would_change(self) -> int:
        """For a dry run: tickets that a real run would update."""
        return self.total - self.unchanged - self.failed - self.not_applicable


class TicketResult(models.Model):
    """What happened to one ticket of a job. Rows are written when the job takes
    its list of tickets, before anything changes, and updated as chunks end."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "Already correct"
        WOULD_CHANGE = "would_change", "Would change"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Not changed (cancelled)"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="results")
    ticket_id = models.BigIntegerField()
    ticket_status = models.CharField(max_length=16, blank=True)
    tags_before = models.JSONField(default=list)
    # For tools that change more than tags: the ticket's fields that the
    # change touches, as they were, and the change itself, as it is sent.
    fields_before = models.JSONField(default=dict, blank=True)
    change = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    error = models.TextField(blank=True)
    zendesk_job_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "ticket_id"], name="one_result_per_ticket_per_job"
            )
        ]
        indexes = [models.Index(fields=["job", "outcome"])]

    def __str__(self) -> str:
        return f"Ticket {self.ticket_id}: {self.get_outcome_display()}"
