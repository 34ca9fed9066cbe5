"""Finding macros by a text in their title or their actions, without Zendesk."""

import re

from tools.macro_matching import (
    EXCERPT_CHARS,
    Piece,
    excerpt,
    field_label,
    find_macros,
    highlight,
    value_text,
)


def macro(pk: int, title: str, actions: list[tuple], active: bool = True) -> dict:
    return {
        "id": pk,
        "title": title,
        "active": active,
        "actions": [{"field": field, "value": value} for field, value in actions],
    }


MACROS = [
    macro(1, "VIP welcome", [("status", "open")]),
    macro(2, "Escalate", [("current_tags", "escalated vip_customer")]),
    macro(3, "Close", [("status", "solved"), ("comment_value", "Thanks, VIPs!")]),
    macro(4, "Old VIP reply", [("status", "solved")], active=False),
    macro(5, "Route", [("group_id", 12), ("custom_fields_901", "area_billing")]),
    macro(6, "Outage", [("comment_value", ["channel:all", "We are fixing it."])]),
]


def ids(matches) -> list[int]:
    return [match.id for match in matches]


def test_a_title_matches_whatever_the_case():
    matches = find_macros(MACROS, "welcome", include_inactive=True)

    assert ids(matches) == [1]
    assert matches[0].title_matches
    assert matches[0].actions == ()


def test_a_tag_inside_an_action_value_matches():
    matches = find_macros(MACROS, "VIP_CUSTOMER", include_inactive=True)

    assert ids(matches) == [2]
    [found] = matches[0].actions
    assert not matches[0].title_matches
    assert str(found) == "Add tags: escalated vip_customer"


def test_every_place_a_text_appears_is_found_in_zendesks_order():
    matches = find_macros(MACROS, "vip", include_inactive=True)

    assert ids(matches) == [1, 2, 3, 4]
    assert [str(action) for action in matches[2].actions] == [
        "Comment (public): Thanks, VIPs!"
    ]


def test_inactive_macros_are_left_out_when_asked():
    matches = find_macros(MACROS, "vip", include_inactive=False)

    assert ids(matches) == [1, 2, 3]


def test_numbers_and_lists_are_searched_as_text():
    assert ids(find_macros(MACROS, "12", include_inactive=True)) == [5]
    outage = find_macros(MACROS, "fixing", include_inactive=True)
    assert [str(action) for action in outage[0].actions] == [
        "Comment (public): We are fixing it."
    ]
    # The channel marker is not part of the comment anyone wrote.
    assert find_macros(MACROS, "channel", include_inactive=True) == []


def test_a_field_name_or_its_words_match():
    by_name = find_macros(MACROS, "custom_fields", include_inactive=True)
    by_words = find_macros(MACROS, "add tags", include_inactive=True)

    assert [str(a) for a in by_name[0].actions] == ["Custom field 901: area_billing"]
    assert ids(by_words) == [2]


def test_a_query_is_matched_literally_not_as_a_pattern():
    titled = [macro(1, "Refund (old)", []), macro(2, "Refund new", [])]

    assert ids(find_macros(titled, "(old)", include_inactive=True)) == [1]
    assert find_macros(titled, ".*", include_inactive=True) == []


def test_a_private_comment_says_so():
    actions = [("comment_value", "Bug"), ("comment_mode_is_public", "false")]
    [found] = find_macros([macro(1, "Note", actions)], "bug", include_inactive=True)

    assert str(found.actions[0]) == "Comment (private): Bug"


def test_fields_read_in_words():
    assert field_label("current_tags") == "Add tags"
    assert field_label("comment_value_html") == "Comment (public, HTML)"
    assert field_label("comment_value", public_comment=False) == "Comment (private)"
    assert field_label("side_conversation_ticket") == "Side conversation ticket"


def test_values_read_as_text():
    assert value_text("group_id", 12) == "12"
    assert value_text("cc", None) == ""
    assert value_text("set_tags", ["a", "b"]) == "a b"


def test_highlighting_keeps_the_case_written_in_the_macro():
    pieces = highlight("Vip and VIP", re.compile("vip", re.IGNORECASE))

    assert pieces == (
        Piece("Vip", marked=True),
        Piece(" and ", marked=False),
        Piece("VIP", marked=True),
    )


def test_a_long_text_is_cut_around_its_match():
    text = "a" * 300 + " refund " + "b" * 300

    cut = excerpt(text, re.compile("refund"))

    assert "refund" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert len(cut) == EXCERPT_CHARS + 2
