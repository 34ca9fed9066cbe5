"""The sandbox's own copy of the Zendesk objects Tag Manager touches.

These live in the "sandbox" database (see routers.py). Shapes follow what the
API returns, not how Zendesk stores things.
"""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from .tags import tags_from_text


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new"
        OPEN = "open"
        PENDING = "pending"
        HOLD = "hold"
        SOLVED = "solved"
        CLOSED = "closed"

    subject = models.CharField(max_length=255)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.NEW, db_index=True
    )
    # Space-delimited with a space at each end; see tags.py.
    tags = models.TextField(default=" ")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def tag_list(self) -> list[str]:
        return tags_from_text(self.tags)


class View(models.Model):
    title = models.CharField(max_length=255)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    # Zendesk's shape: {"all": [...], "any": [...]} of field/operator/value.
    conditions = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Macro(models.Model):
    title = models.CharField(max_length=255)
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    # Zendesk's shape: a list of {"field": ..., "value": ...}; see macros.py.
    actions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


def _new_job_id() -> str:
    return uuid.uuid4().hex


class JobStatus(models.Model):
    class Fate(models.TextChoices):
        """How the job ends, chosen by the fault modes when it is created."""

        COMPLETED = "completed"
        FAILED = "failed"  # reports "failed", no results, nothing changed
        STUCK = "stuck"  # reports "queued" for ever, nothing changed
        VANISHED = "vanished"  # changes applied, then its status is unknown

    id = models.CharField(
        primary_key=True, max_length=32, default=_new_job_id, editable=False
    )
    job_type = models.CharField(max_length=32, default="bulk_update")
    total = models.PositiveIntegerField()
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    # When the job reports "completed"; until then it counts as in flight.
    ready_at = models.DateTimeField(db_index=True)
    fate = models.CharField(max_length=9, choices=Fate.choices, default=Fate.COMPLETED)

    def __str__(self) -> str:
        return self.id


class RequestLog(models.Model):
    at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status_code}"


class Fault(models.Model):
    """A canned failure for the next `remaining` requests whose path matches."""

    path_contains = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    retry_after = models.PositiveIntegerField(null=True, blank=True)
    remaining = models.PositiveIntegerField(default=1)
    # Carry the request out first and lose its answer, as a dropped
    # connection or a gateway timeout after the work was done would.
    after_handling = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.status_code} for {self.path_contains!r} x{self.remaining}"


def _fraction(help_text: str) -> models.FloatField:
    return models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=f"{help_text} From 0 (never) to 1 (always).",
    )


class FaultModes(models.Model):
    """The sandbox's standing faults, changed at run time without a restart.

    There is at most one row. Without it the SANDBOX_FAULT_* settings apply;
    once saved, the row replaces them all until it is deleted. Which call or
    ticket a fraction hits is drawn from `seed`, so a run can be repeated.
    """

    throttle_rate = _fraction("Share of API calls answered 429, in HTML.")
    retry_after_seconds = models.PositiveIntegerField(
        default=10, help_text="Retry-After sent with those 429s."
    )
    server_error_rate = _fraction("Share of API calls answered 500, 502 or 503.")
    delay_seconds = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(120.0)],
        help_text="Added to every answer, after the work is done.",
    )
    delay_paths = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated parts of paths to slow down; empty: all.",
    )
    job_fail_rate = _fraction("Share of update_many jobs that end failed.")
    job_stuck_rate = _fraction("Share of update_many jobs that stay queued.")
    job_vanish_rate = _fraction(
        "Share of update_many jobs whose status is forgotten at once."
    )
    too_many_jobs = models.BooleanField(
        default=False,
        help_text="Refuse every new update_many as if the job queue were full.",
    )
    ticket_fail_rate = _fraction(
        "Share of tickets that fail inside an update_many job, unchanged."
    )
    seed = models.IntegerField(default=0)
    active_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The modes switch themselves off at this time; empty: never.",
    )

    class Meta:
        verbose_name = "fault modes"
        verbose_name_plural = "fault modes"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="one_fault_modes")
        ]

    def __str__(self) -> str:
        return "Sandbox fault modes"

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
