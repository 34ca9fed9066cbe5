import pytest

from tools.tags import TagError, normalise_tags


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("vip", ["vip"]),
        ("VIP, Billing", ["vip", "billing"]),
        ("vip\nbilling\n\n", ["vip", "billing"]),
        ("Priority Customer", ["priority", "customer"]),
        ("vip, VIP, vip", ["vip"]),
        ("Réclamation", ["réclamation"]),
        (
            "tier:gold  team/emea  v1.2  follow-up",
            ["tier:gold", "team/emea", "v1.2", "follow-up"],
        ),
        ("   ", []),
        ("e\u0301cole", ["\u00e9cole"]),
        ("İstanbul", ["i\u0307stanbul"]),
        ("日本語, données", ["日本語", "données"]),
    ],
)
def test_tags_are_normalised_as_zendesk_stores_them(raw, expected):
    assert normalise_tags(raw) == expected


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("vip, <b>", "“<b>”"),
        ("good #hash", "“#hash”"),
        ('"quoted"', '“"quoted"”'),
        ("x" * 81, "longer than 80"),
        ("vip, -", "“-” needs at least one letter or digit"),
        ("._", "“._” needs at least one letter or digit"),
    ],
)
def test_what_cannot_be_a_tag_is_named_in_the_error(raw, named):
    with pytest.raises(TagError) as error:
        normalise_tags(raw)
    assert named in str(error.value)


def test_more_than_fifty_tags_at_once_are_refused():
    with pytest.raises(TagError, match="at most 50 tags at a time \\(51 given\\)"):
        normalise_tags(" ".join(f"t{n}" for n in range(51)))


def test_a_flood_of_input_is_refused_quickly_with_a_short_message():
    with pytest.raises(TagError) as refused:
        normalise_tags("#, " * 100_000)
    assert str(refused.value) == "Enter at most 50 tags at a time."


def test_only_the_first_few_problems_are_listed():
    with pytest.raises(TagError) as refused:
        normalise_tags(" ".join(f"<{n}>" for n in range(8)))
    assert str(refused.value).endswith("; and 3 more")
    assert "“<0>”" in str(refused.value)
    assert "“<5>”" not in str(refused.value)
