from django.conf import settings
from django.db import models

# The most tickets one job may take. A job's list of tickets and its results are
# stored row by row; the engine, the pages and the exports are built and tested
# for this many.
MAX_TICKET_LIMIT = 50_000


def _default_inline_limit() -> int:
    return settings.TOOLS_INLINE_TICKET_LIMIT


def _default_background_limit() -> int:
    return settings.TOOLS_BACKGROUND_TICKET_LIMIT


class Tool(models.Model):
    """The settings of a tool that supervisors can change; its code lives in
    a tool class found through the registry by slug."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=50)
    enabled = models.BooleanField(default=True)
    requires_admin = models.BooleanField(default=False)
    inline_ticket_limit = models.PositiveIntegerField(default=_default_inline_limit)
    background_ticket_limit = models.PositiveIntegerField(
        default=_default_background_limit
    )

    class Meta:
        ordering = ["category", "name"]
        permissions = [
            ("use_admin_tools", "Can use admin-only tools"),
            ("check_zendesk_connection", "Can see and test the Zendesk connection"),
        ]

    def __str__(self) -> str:
        return self.name
