"""Realistic sandbox data: tickets with long-tailed tags, and a few views."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from django.core.management.color import no_style
from django.db import connections, transaction
from django.db.models import Count
from django.utils import timezone

from .conditions import conditions_q
from .models import Fault, JobStatus, Macro, RequestLog, Ticket, View
from .routers import SANDBOX_DB
from .seed_account import MACROS
from .tags import normalise_tags, tags_to_text

BATCH_SIZE = 2000
SANDBOX_MODELS = [Ticket, View, Macro, JobStatus, RequestLog, Fault]

# Weights give about 5% closed; every status shows up in a few hundred tickets.
STATUS_WEIGHTS = {
    "new": 12,
    "open": 30,
    "pending": 14,
    "hold": 6,
    "solved": 33,
    "closed": 5,
}

# Most common first; weights fall off like Zipf's law, as real tag use does.
COMMON_TAGS = [
    "billing", "how_to", "bug", "vip", "refund", "login", "shipping",
    "feature_request", "priority_customer", "account", "invoice", "mobile_app",
    "password_reset", "churn_risk", "integration", "api", "cancellation",
    "upgrade", "downgrade", "sso", "export", "outage", "performance",
    "gdpr", "data_deletion", "onboarding", "trial", "discount", "chargeback",
    "duplicate", "spam_suspect", "escalated", "partner", "enterprise",
    "webhook", "translation", "accessibility", "security", "compliance",
    "legacy_plan",
]  # fmt: skip
TAGS_PER_TICKET_WEIGHTS = [20, 30, 22, 14, 9, 5]  # for 0, 1, ... 5 tags

# Input as an agent might type it; stored normalised, as the API would.
MESSY_INPUT_TAGS = [
    "VIP", "Billing", "Café_Order", "Müller_Account", "Crème Brûlée",
    "ÉCOLE", "Priority_Customer", "Señor_Plan",
]  # fmt: skip
MESSY_SHARE = 0.01

SUBJECT_TEMPLATES = [
    "Refund request for order #{number}",
    "Can't log in to {product}",
    "{product} crashes when I {action}",
    "Question about invoice {number}",
    "How do I {action} in {product}?",
    "Charged twice for my {plan} plan",
    "Please cancel my {plan} subscription",
    "Feature request: let me {action} from {product}",
    "Package #{number} has not arrived",
    "Error 500 when I {action}",
    "Upgrade to the {plan} plan",
    "{product} is very slow today",
]
PRODUCTS = ["the mobile app", "the dashboard", "the web app", "the API", "Reports"]
ACTIONS = ["export data", "reset my password", "add a user", "upload a file", "pay"]
PLANS = ["Starter", "Team", "Business", "Enterprise"]


def _rule(field: str, operator: str, value: str) -> dict:
    return {"field": field, "operator": operator, "value": value}


VIEWS = [
    ("New tickets", {"all": [_rule("status", "is", "new")]}),
    ("Open tickets", {"all": [_rule("status", "is", "open")]}),
    ("Pending tickets", {"all": [_rule("status", "is", "pending")]}),
    ("On-hold tickets", {"all": [_rule("status", "is", "hold")]}),
    ("Solved tickets", {"all": [_rule("status", "is", "solved")]}),
    ("All unsolved tickets", {"all": [_rule("status", "less_than", "solved")]}),
    # No ticket is ever "deleted" here, so this view holds every ticket: with
    # 10,500 or more it passes 10,000, the depth offset pagination cannot reach.
    ("All tickets", {"all": [_rule("status", "is_not", "deleted")]}),
    (
        "VIP and priority customers",
        {
            "all": [_rule("status", "less_than", "closed")],
            "any": [_rule("current_tags", "includes", "vip priority_customer")],
        },
    ),
    (
        "Escalations (old process)",
        {"all": [_rule("current_tags", "includes", "escalated")]},
    ),
    # Defined by a missing tag: it shrinks while a job adds "reviewed".
    (
        "Not yet reviewed",
        {"all": [_rule("current_tags", "not_includes", "reviewed")]},
    ),
]

# Switched off, as old views often are: views/active.json leaves it out.
INACTIVE_VIEWS = {"Escalations (old process)"}


@dataclass(frozen=True)
class SeedReport:
    created: int
    total: int
    by_status: dict[str, int]
    view_counts: list[tuple[str, int]]


def seed(*, tickets: int, seed: int = 0, reset: bool = False) -> SeedReport:
    """Top the sandbox up to `tickets` tickets and make sure the views and the
    macros exist."""
    with transaction.atomic(using=SANDBOX_DB):
        if reset:
            wipe()
        existing = Ticket.objects.count()
        missing = max(0, tickets - existing)
        # Seeding from (seed, existing) keeps a top-up reproducible too.
        rng = random.Random(f"{seed}:{existing}")
        _create_tickets(rng, missing)
        _ensure_views()
        _ensure_macros()

    return _report(created=missing)


def wipe() -> None:
    """Empty every sandbox table and restart ids at 1, so seeded ids repeat."""
    connection = connections[SANDBOX_DB]
    tables = [model._meta.db_table for model in SANDBOX_MODELS]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _create_tickets(rng: random.Random, count: int) -> None:
    now = timezone.now()
    created = sorted(now - timedelta(days=rng.uniform(0, 365)) for _ in range(count))

    batch = []
    for created_at in created:
        batch.append(_make_ticket(rng, created_at, now))
        if len(batch) == BATCH_SIZE:
            Ticket.objects.bulk_create(batch)
            batch = []
    Ticket.objects.bulk_create(batch)


_STATUSES = list(STATUS_WEIGHTS)
_STATUS_CUM_WEIGHTS = list(accumulate(STATUS_WEIGHTS.values()))


def _make_ticket(rng: random.Random, created_at: datetime, now: datetime) -> Ticket:
    age = (now - created_at).total_seconds()
    return Ticket(
        subject=_subject(rng),
        status=rng.choices(_STATUSES, cum_weights=_STATUS_CUM_WEIGHTS)[0],
        tags=tags_to_text(_tags(rng)),
        created_at=created_at,
        updated_at=created_at + timedelta(seconds=rng.uniform(0, age)),
    )


def _subject(rng: random.Random) -> str:
    subject = rng.choice(SUBJECT_TEMPLATES).format(
        number=rng.randint(1000, 99999),
        product=rng.choice(PRODUCTS),
        action=rng.choice(ACTIONS),
        plan=rng.choice(PLANS),
    )
    return subject[0].upper() + subject[1:]


_TAG_CUM_WEIGHTS = list(
    accumulate(1 / rank**1.1 for rank in range(1, len(COMMON_TAGS) + 1))
)


def _tags(rng: random.Random) -> list[str]:
    counts = range(len(TAGS_PER_TICKET_WEIGHTS))
    wanted = rng.choices(counts, weights=TAGS_PER_TICKET_WEIGHTS)[0]
    picked: list[str] = []
    # Draws can repeat a tag, so give up after a few tries rather than loop on.
    for _ in range(wanted * 4):
        if len(picked) == wanted:
            break
        tag = rng.choices(COMMON_TAGS, cum_weights=_TAG_CUM_WEIGHTS)[0]
        if tag not in picked:
            picked.append(tag)

    if rng.random() < MESSY_SHARE:
        picked.append(rng.choice(MESSY_INPUT_TAGS))
    return normalise_tags(picked)


def _ensure_views() -> None:
    """Create missing views by title; views already there are left as they are."""
    for position, (title, conditions) in enumerate(VIEWS, start=1):
        View.objects.get_or_create(
            title=title,
            defaults={
                "conditions": conditions,
                "position": position,
                "active": title not in INACTIVE_VIEWS,
            },
        )


def _ensure_macros() -> None:
    """Create missing macros by title, like the views."""
    for position, (title, description, active, actions) in enumerate(MACROS, 1):
        Macro.objects.get_or_create(
            title=title,
            defaults={
                "description": description,
                "active": active,
                "position": position,
                "actions": actions,
            },
        )


def _report(*, created: int) -> SeedReport:
    by_status = dict(
        Ticket.objects.values_list("status").annotate(n=Count("id")).order_by()
    )
    view_counts = [
        (view.title, Ticket.objects.filter(conditions_q(view.conditions)).count())
        for view in View.objects.order_by("position", "id")
    ]
    return SeedReport(
        created=created,
        total=sum(by_status.values()),
        by_status={status: by_status.get(status, 0) for status in STATUS_WEIGHTS},
        view_counts=view_counts,
    )
