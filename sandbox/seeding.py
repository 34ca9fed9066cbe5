"""Realistic sandbox data: tickets with long-tailed tags and their first
comments, the people, groups and fields they refer to, views and macros."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from django.core.management.color import no_style
from django.db import connections, transaction
from django.db.models import Count
from django.utils import timezone

from .conditions import conditions_q
from .models import (
    Comment,
    Fault,
    Group,
    JobStatus,
    Macro,
    RequestLog,
    Ticket,
    TicketAudit,
    TicketField,
    User,
    View,
)
from .routers import SANDBOX_DB
from .seed_account import (
    AGENTS,
    FIRST_REQUESTER_ID,
    GROUP_AGENTS,
    GROUPS,
    MACROS,
    PRODUCT_AREAS,
    REQUESTER_FIRST_NAMES,
    REQUESTER_LAST_NAMES,
    TICKET_FIELDS,
)
from .tags import normalise_tags, tags_to_text
from .ticket_changes import text_to_html

BATCH_SIZE = 2000
SANDBOX_MODELS = [
    Comment,
    TicketAudit,
    Ticket,
    View,
    Macro,
    User,
    Group,
    TicketField,
    JobStatus,
    RequestLog,
    Fault,
]

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

# Unset ("") weighs in too: many tickets never get a priority or a type.
PRIORITY_WEIGHTS = {"": 25, "low": 15, "normal": 40, "high": 15, "urgent": 5}
TYPE_WEIGHTS = {"": 25, "question": 40, "incident": 20, "problem": 5, "task": 10}
GROUP_WEIGHTS = {None: 10, **{group_id: 20 for group_id, _ in GROUPS}}


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
        _ensure_account()
        # Fields other than status and tags come from a second stream, so
        # that a seed gives the same statuses and tags as it always has.
        fields_rng = random.Random(f"{seed}:{existing}:fields")
        _create_tickets(rng, fields_rng, missing)
        _ensure_views()
        _ensure_macros()

    return _report(created=missing)


def wipe() -> None:
    """Empty every sandbox table and restart ids at 1, so seeded ids repeat."""
    connection = connections[SANDBOX_DB]
    tables = [model._meta.db_table for model in SANDBOX_MODELS]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL refuses to truncate a table whose deferred foreign
            # key checks are still pending in this transaction (comments
            # added earlier in it): run those checks now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for sql in statements:
            cursor.execute(sql)


def _create_tickets(rng: random.Random, fields_rng: random.Random, count: int) -> None:
    now = timezone.now()
    created = sorted(now - timedelta(days=rng.uniform(0, 365)) for _ in range(count))

    batch = []
    for created_at in created:
        ticket = _make_ticket(rng, created_at, now)
        _fill_fields(fields_rng, ticket)
        batch.append(ticket)
        if len(batch) == BATCH_SIZE:
            _save_tickets(batch)
            batch = []
    _save_tickets(batch)


def _save_tickets(tickets: list[Ticket]) -> None:
    """Save a batch with its first comments, which need the new ids."""
    Ticket.objects.bulk_create(tickets)
    Comment.objects.bulk_create(_first_comment(ticket) for ticket in tickets)


def _first_comment(ticket: Ticket) -> Comment:
    body = f"{ticket.subject}.\n\nThanks for your help."
    return Comment(
        ticket=ticket,
        author_id=ticket.requester_id,
        body=body,
        html_body=text_to_html(body),
        public=True,
        created_at=ticket.created_at,
    )


_REQUESTER_COUNT = len(REQUESTER_FIRST_NAMES) * len(REQUESTER_LAST_NAMES)


def _fill_fields(rng: random.Random, ticket: Ticket) -> None:
    ticket.priority = _weighted(rng, PRIORITY_WEIGHTS)
    ticket.type = _weighted(rng, TYPE_WEIGHTS)
    ticket.group_id = _weighted(rng, GROUP_WEIGHTS)
    ticket.requester_id = FIRST_REQUESTER_ID + rng.randrange(_REQUESTER_COUNT)
    # New tickets wait for an agent; most others have one from their group.
    if ticket.group_id is not None and ticket.status != "new":
        ticket.assignee_id = rng.choice(GROUP_AGENTS[ticket.group_id])
    ticket.custom_fields = _custom_values(rng)


def _custom_values(rng: random.Random) -> dict[str, object]:
    """A value, or null, for every active custom field, as Zendesk lists them."""
    area = rng.choice([None, *(value for _, value in PRODUCT_AREAS)])
    order = f"ORD-{rng.randint(100000, 999999)}" if rng.random() < 0.3 else None
    affected = rng.choice([None, None, 1, 5, 20, 250])
    values = [area, order, rng.random() < 0.1, affected]
    active = [field_id for field_id, _, _, is_on, _ in TICKET_FIELDS if is_on]
    return {
        str(field_id): value for field_id, value in zip(active, values, strict=True)
    }


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


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


def _ensure_account() -> None:
    """Create the fixed users, groups and ticket fields that are missing."""
    for user_id, name, email, role in AGENTS:
        User.objects.get_or_create(
            id=user_id, defaults={"name": name, "email": email, "role": role}
        )
    for user_id, name in enumerate(_requester_names(), FIRST_REQUESTER_ID):
        email = name.lower().replace(" ", ".") + "@customer.example.com"
        User.objects.get_or_create(id=user_id, defaults={"name": name, "email": email})
    for group_id, name in GROUPS:
        Group.objects.get_or_create(id=group_id, defaults={"name": name})
    for position, field in enumerate(TICKET_FIELDS, 1):
        _ensure_ticket_field(position, *field)


def _requester_names() -> list[str]:
    return [
        f"{first} {last}"
        for last in REQUESTER_LAST_NAMES
        for first in REQUESTER_FIRST_NAMES
    ]


def _ensure_ticket_field(position, field_id, title, kind, active, options) -> None:
    choices = [
        {"id": field_id * 100 + n, "name": name, "value": value}
        for n, (name, value) in enumerate(options, 1)
    ]
    TicketField.objects.get_or_create(
        id=field_id,
        defaults={
            "title": title,
            "type": kind,
            "active": active,
            "position": position,
            "custom_field_options": choices,
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
