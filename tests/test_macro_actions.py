import pytest

from tools.macro_actions import MacroError, change_for, change_lines, read_macro
from zendesk import TicketSummary


def macro(*actions: tuple[str, object], macro_id: int = 7) -> dict:
    return {
        "id": macro_id,
        "title": "A macro",
        "actions": [{"field": name, "value": value} for name, value in actions],
    }


def ticket(status="open", tags=(), **fields) -> TicketSummary:
    return TicketSummary(
        id=1,
        status=status,
        tags=tuple(tags),
        updated_at="",
        fields={"custom_fields": {}, **fields},
    )


def test_a_macro_becomes_the_fields_tags_and_comment_it_changes():
    actions = read_macro(
        macro(
            ("status", "solved"),
            ("priority", "high"),
            ("current_tags", "Vip  escalated"),
            ("comment_value", ["channel:all", "We fixed it."]),
        ),
        current_user_id=None,
    )

    planned = change_for(actions, ticket(tags=["billing"], priority="low"))

    assert planned.change == {
        "status": "solved",
        "priority": "high",
        "additional_tags": ["vip", "escalated"],
        "comment": {"body": "We fixed it.", "public": True},
    }
    assert planned.before == {
        "status": "open",
        "priority": "low",
        "tags": ["billing"],
    }


def test_only_what_differs_is_sent():
    actions = read_macro(
        macro(("status", "pending"), ("current_tags", "vip")), current_user_id=None
    )

    planned = change_for(actions, ticket(status="pending", tags=["vip"]))

    assert planned.change == {}


def test_set_tags_is_sent_as_tags_to_add_and_remove_never_as_a_new_list():
    actions = read_macro(
        macro(("set_tags", "done archived"), ("remove_tags", "archived")),
        current_user_id=None,
    )

    planned = change_for(actions, ticket(tags=["billing", "done"]))

    assert planned.change == {"remove_tags": ["billing"]}
    assert "tags" not in planned.change


def test_assignee_current_user_and_group_ids_and_custom_fields():
    actions = read_macro(
        macro(
            ("assignee_id", "current_user"),
            ("group_id", "42"),
            ("custom_fields_360001", "refund"),
        ),
        current_user_id=900,
    )

    planned = change_for(
        actions,
        ticket(assignee_id=5, group_id=42, custom_fields={"360001": "other"}),
    )

    assert planned.change == {
        "assignee_id": 900,
        "custom_fields": [{"id": 360001, "value": "refund"}],
    }
    assert planned.before == {"assignee_id": 5, "custom_fields": {"360001": "other"}}


def test_a_private_html_comment():
    actions = read_macro(
        macro(
            ("comment_value_html", "<p>Note</p>"), ("comment_mode_is_public", "false")
        ),
        current_user_id=None,
    )

    assert actions.comment == {"html_body": "<p>Note</p>", "public": False}
    assert not actions.comment_has_placeholders


def test_a_comment_with_placeholders_is_known_as_such():
    actions = read_macro(
        macro(("comment_value", "Hi {{ticket.requester.first_name}}")),
        current_user_id=None,
    )

    assert actions.comment_has_placeholders


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([("satisfaction_score", "offered")], "“satisfaction_score” is not supported"),
        ([("status", "closed")], "Status “closed” is not a value"),
        ([("subject", "Re: {{ticket.title}}")], "Subject uses a placeholder"),
        ([("group_id", "support")], "Group “support” is not an id"),
        ([("assignee_id", "current_user")], "“current user” could not be looked up"),
        ([], "has no action that changes a ticket"),
    ],
)
def test_actions_that_cannot_be_reproduced_are_refused_with_the_reason(
    actions, message
):
    with pytest.raises(MacroError, match=message):
        read_macro(macro(*actions), current_user_id=None)


def test_every_problem_is_named_at_once():
    with pytest.raises(MacroError) as refused:
        read_macro(macro(("cc", "x"), ("type", "bug")), current_user_id=None)

    assert "“cc”" in str(refused.value)
    assert "Type “bug”" in str(refused.value)


def test_change_lines_say_before_and_after_and_the_comment():
    lines = change_lines(
        {"status": "open", "custom_fields": {"360001": None}},
        {
            "status": "solved",
            "custom_fields": [{"id": 360001, "value": "yes"}],
            "additional_tags": ["vip"],
            "comment": {"body": "Done.", "public": False},
        },
    )

    assert lines == [
        "Status: open → solved",
        "Custom field 360001: – → yes",
        "Comment (private): Done.",
    ]


def test_liquid_tags_count_as_placeholders_too():
    actions = read_macro(
        macro(("comment_value", "{% if ticket.priority == 'urgent' %}Soon{% endif %}")),
        current_user_id=None,
    )

    assert actions.comment_has_placeholders


@pytest.mark.parametrize(
    ("current", "wanted"),
    [(True, "true"), (42, "42"), (["b", "a"], ["a", "b"]), (None, "")],
)
def test_a_custom_field_already_holding_the_value_is_left_alone(current, wanted):
    actions = read_macro(macro(("custom_fields_901", wanted)), current_user_id=None)

    planned = change_for(actions, ticket(custom_fields={"901": current}))

    assert planned.change == {}


def test_a_rich_text_comment_is_shown_as_its_words():
    lines = change_lines(
        {}, {"comment": {"html_body": "<p>We&#39;re <b>on it</b>.</p>", "public": True}}
    )

    assert lines == ["Comment (public, rich text): We're on it."]
