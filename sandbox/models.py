"""The sandbox's own copy of the Zendesk objects Tag Manager touches.

These live in the "sandbox" database (see routers.py). Shapes follow what the
API returns, not how Zendesk stores things.
"""

import uuid

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


def _new_job_id() -> str:
    return uuid.uuid4().hex


class JobStatus(models.Model):
    id = models.CharField(
        primary_key=True, max_length=32, default=_new_job_id, editable=False
    )
    job_type = models.CharField(max_length=32, default="bulk_update")
    total = models.PositiveIntegerField()
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    # When the job reports "completed"; until then it counts as in flight.
    ready_at = models.DateTimeField(db_index=True)

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
