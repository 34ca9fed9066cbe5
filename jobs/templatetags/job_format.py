from django import template

from jobs.ticket_links import ticket_url

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds in words a person reads at a glance: "45 s", "3 min 5 s"."""
    if seconds is None:
        return "–"
    if seconds < 1:
        return "under 1 s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def zendesk_ticket_url(ticket_id: int) -> str:
    """The ticket's page in Zendesk, or "" where there is none (the sandbox)."""
    return ticket_url(ticket_id) or ""
