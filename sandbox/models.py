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

    class Priority(models.TextChoices):
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"
        URGENT = "urgent"

    class Type(models.TextChoices):
        QUESTION = "question"
        INCIDENT = "incident"
        PROBLEM = "problem"
        TASK = "task"

    subject = models.CharField(max_length=255)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.NEW, db_index=True
    )
    # Stored "" when unset; the API answers null (see payloads.py).
    priority = models.CharField(max_length=8, choices=Priority.choices, blank=True)
    type = models.CharField(max_length=8, choices=Type.choices, blank=True)
    # Plain ids, as the API carries them; Zendesk refuses an unknown group or
    # user, which the sandbox does not check.
    group_id = models.BigIntegerField(null=True, blank=True)
    assignee_id = models.BigIntegerField(null=True, blank=True)
    requester_id = models.BigIntegerField(null=True, blank=True)
    # {"<field id>": value}; the payload turns it into Zendesk's list.
    custom_fields = models.JSONField(default=dict, blank=True)
    # Space-delimited with a space at each end; see tags.py.
    tags = models.TextField(default=" ")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def tag_list(self) -> list[str]:
        return tags_from_text(self.tags)


class User(models.Model):
    class Role(models.TextChoices):
        END_USER = "end-user"
        AGENT = "agent"
        ADMIN = "admin"

    # Ids are given by the seeder (see seed_account.py), not generated.
    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=255)
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.END_USER)

    def __str__(self) -> str:
        return self.name

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]


class Group(models.Model):
    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class TicketField(models.Model):
    """A custom ticket field; Zendesk's system fields are not modelled."""

    class Type(models.TextChoices):
        TEXT = "text"
        TAGGER = "tagger"
        CHECKBOX = "checkbox"
        INTEGER = "integer"

    id = models.BigIntegerField(primary_key=True)
    title = models.CharField(max_length=255)
    type = models.CharField(max_length=8, choices=Type.choices)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    # Taggers only: [{"id": N, "name": "Billing", "value": "area_billing"}]
    custom_field_options = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    author_id = models.BigIntegerField()
    body = models.TextField()
    html_body = models.TextField()
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Comment {self.pk} on #{self.ticket_id}"


class TicketAudit(models.Model):
    """One update of a ticket through the API, as Zendesk's audit log keeps it.

    `events` holds what changed ({"field_name", "previous_value", "value"});
    `macro_ids` the macros the update said it applied.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    author_id = models.BigIntegerField()
    events = models.JSONField(default=list)
    macro_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Audit {self.pk} of #{self.ticket_id}"


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
