"""The account's fixed set-up that the seeder creates: people, groups, custom
ticket fields and macros.

Ids are fixed here rather than left to the database, so that macros can name
a group or a field, and a demo or a test can rely on the same ids after every
reset.
"""


def _action(field: str, value: object) -> dict:
    return {"field": field, "value": value}


# The user the API credentials belong to (users/me); comments and audits
# sent through the API are written in its name.
API_USER_ID = 1
AGENTS = [
    (API_USER_ID, "Sandbox agent", "sandbox-agent@example.com", "admin"),
    (2, "Priya Raman", "priya.raman@example.com", "agent"),
    (3, "Tomás Herrera", "tomas.herrera@example.com", "agent"),
    (4, "Grace Okafor", "grace.okafor@example.com", "agent"),
    (5, "Lukas Becker", "lukas.becker@example.com", "agent"),
    (6, "Mei Lin", "mei.lin@example.com", "admin"),
]
REQUESTER_FIRST_NAMES = [
    "Alice", "Bruno", "Chloé", "Dmitri", "Emma", "Farah", "Gustav", "Hana",
    "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nora", "Oskar", "Paula",
    "Quentin", "Rosa", "Sven", "Tara",
]  # fmt: skip
REQUESTER_LAST_NAMES = ["Smith", "Novak", "García", "Dubois", "Kim"]
# Requesters are numbered from here, after the agents.
FIRST_REQUESTER_ID = 101

SUPPORT_GROUP_ID = 11
TIER_2_GROUP_ID = 12
BILLING_GROUP_ID = 13
SECURITY_GROUP_ID = 14
GROUPS = [
    (SUPPORT_GROUP_ID, "Support"),
    (TIER_2_GROUP_ID, "Tier 2"),
    (BILLING_GROUP_ID, "Billing"),
    (SECURITY_GROUP_ID, "Security"),
]
# Which agents work in which group, for realistic assignments.
GROUP_AGENTS = {
    SUPPORT_GROUP_ID: [2, 3, 4],
    TIER_2_GROUP_ID: [5, 6],
    BILLING_GROUP_ID: [3, 4],
    SECURITY_GROUP_ID: [6],
}

PRODUCT_AREA_FIELD_ID = 901
ORDER_NUMBER_FIELD_ID = 902
FOLLOW_UP_FIELD_ID = 903
AFFECTED_USERS_FIELD_ID = 904
LEGACY_REGION_FIELD_ID = 905
PRODUCT_AREAS = [
    ("Billing", "area_billing"),
    ("Mobile app", "area_mobile"),
    ("Web app", "area_web"),
    ("API", "area_api"),
]
# (id, title, type, active, options as (name, value))
TICKET_FIELDS = [
    (PRODUCT_AREA_FIELD_ID, "Product area", "tagger", True, PRODUCT_AREAS),
    (ORDER_NUMBER_FIELD_ID, "Order number", "text", True, []),
    (FOLLOW_UP_FIELD_ID, "Needs follow-up", "checkbox", True, []),
    (AFFECTED_USERS_FIELD_ID, "Affected users", "integer", True, []),
    (
        LEGACY_REGION_FIELD_ID,
        "Region (old)",
        "tagger",
        False,
        [("Europe", "region_eu"), ("Americas", "region_am")],
    ),
]

# (title, description, active, actions), in the order agents see them.
MACROS = [
    (
        "Close as duplicate",
        "Solve a ticket that repeats another and tell the requester.",
        True,
        [
            _action("status", "solved"),
            _action("current_tags", "duplicate"),
            _action(
                "comment_value",
                "We are already working on this request in another ticket, "
                "so we are closing this one. Thank you for your patience.",
            ),
        ],
    ),
    (
        "Escalate to Tier 2",
        "Hand the ticket to Tier 2 with high priority.",
        True,
        [
            _action("group_id", TIER_2_GROUP_ID),
            _action("priority", "high"),
            _action("current_tags", "escalated tier_2"),
        ],
    ),
    (
        "Ask for more details",
        "Wait for the requester to describe the problem further.",
        True,
        [
            _action("status", "pending"),
            _action(
                "comment_value",
                "Could you tell us the steps that lead to the problem, and "
                "send a screenshot if you can?",
            ),
            _action("comment_mode_is_public", "true"),
        ],
    ),
    (
        "Greet the requester by name",
        "A friendly first reply that opens the ticket.",
        True,
        [
            _action("status", "open"),
            _action(
                "comment_value",
                "Hi {{ticket.requester.first_name}},\n\nThanks for writing to "
                "us about ticket #{{ticket.id}}. We are looking into it.\n\n"
                "{{current_user.first_name}}",
            ),
        ],
    ),
    (
        "Internal note: suspected bug",
        "Flag the ticket as a problem for the engineers, unseen by the customer.",
        True,
        [
            _action("type", "problem"),
            _action("current_tags", "bug needs_engineering"),
            _action(
                "comment_value",
                "Looks like a product bug. Reproduce it before replying.",
            ),
            _action("comment_mode_is_public", "false"),
        ],
    ),
    (
        "Route to Billing",
        "Set the product area and send the ticket to the Billing group.",
        True,
        [
            _action(f"custom_fields_{PRODUCT_AREA_FIELD_ID}", "area_billing"),
            _action("group_id", BILLING_GROUP_ID),
            _action("type", "question"),
        ],
    ),
    (
        "Reset tags for triage",
        "Replace every tag with the triage tags.",
        True,
        [_action("set_tags", "triage needs_review")],
    ),
    (
        "Take it",
        "Assign the ticket to yourself and open it.",
        True,
        [_action("assignee_id", "current_user"), _action("status", "open")],
    ),
    (
        "Not spam after all",
        "Clear the spam flag and reopen.",
        True,
        [_action("remove_tags", "spam_suspect"), _action("status", "open")],
    ),
    (
        "Outage notice",
        "Tell the requester about an ongoing outage, in rich text.",
        True,
        [
            _action("priority", "urgent"),
            _action("type", "incident"),
            _action("current_tags", "outage"),
            _action(
                "comment_value",
                ["channel:all", "We are aware of an outage and are fixing it."],
            ),
            _action(
                "comment_value_html",
                "<p>We are aware of an <strong>outage</strong> and are fixing it.</p>",
            ),
        ],
    ),
    (
        "Offer satisfaction survey",
        "Solve, offer the survey and copy in the agent.",
        True,
        [
            _action("status", "solved"),
            _action("satisfaction_score", "offered"),
            _action("cc", "current_user"),
        ],
    ),
    (
        "Refund processed (old wording)",
        "Replaced by the billing team's new replies.",
        False,
        [
            _action("status", "solved"),
            _action("current_tags", "refund"),
            _action("comment_value", "Your refund has been processed."),
        ],
    ),
]
