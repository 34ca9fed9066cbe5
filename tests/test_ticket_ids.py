"""Reading pasted and uploaded lists of ticket ids."""

import io

import pytest

from tools.ticket_ids import (
    MAX_FILE_BYTES,
    TicketIdError,
    ids_from_file,
    ids_from_text,
)


def from_file(content: bytes, name: str = "tickets.csv", most: int = 100):
    return ids_from_file(io.BytesIO(content), name, most=most)


def problems_of(read, *args, **kwargs) -> list[str]:
    with pytest.raises(TicketIdError) as refused:
        read(*args, **kwargs)
    return refused.value.problems


def test_pasted_ids_may_be_split_any_way_and_repeats_are_counted():
    listed = ids_from_text("12, 13 14\n\n15;12\r\n13,,", most=100)

    assert listed.ids == [12, 13, 14, 15]
    assert listed.repeats == 2


def test_every_bad_entry_is_reported_with_its_line():
    problems = problems_of(ids_from_text, "1, 2\n3 abc\n\n4\n#5, 0, -6", most=100)

    assert problems == [
        "line 2: “abc” is not a ticket id",
        "line 5: “#5” is not a ticket id",
        "line 5: “0” is not a ticket id",
        "line 5: “-6” is not a ticket id",
    ]


def test_a_long_list_of_problems_is_cut_short():
    problems = problems_of(ids_from_text, "x\n" * 25, most=100)

    assert len(problems) == 11
    assert problems[-1] == "and 15 more"


@pytest.mark.parametrize("text", ["", " ,\n ; "])
def test_nothing_to_read_is_refused(text):
    assert problems_of(ids_from_text, text, most=100) == ["No ticket ids found."]


def test_more_ids_than_the_tool_takes_are_refused():
    text = " ".join(str(n) for n in range(1, 102))

    problems = problems_of(ids_from_text, text, most=100)

    assert problems == ["That is 101 tickets; this tool takes at most 100 a run."]


def test_the_limit_counts_ids_after_repeats_are_dropped():
    listed = ids_from_text("7 " * 500, most=1)

    assert (listed.ids, listed.repeats) == ([7], 499)


@pytest.mark.parametrize("header", ["id", "ID", "Ticket_Id", "ticket_id"])
def test_a_csv_column_named_id_or_ticket_id_is_read(header):
    content = f"subject,{header},status\nHello,21,open\nBye,22,solved\n,,\n"

    listed = from_file(content.encode())

    assert listed.ids == [21, 22]


def test_a_single_column_needs_no_header():
    assert from_file(b"31\n32\n31\n").ids == [31, 32]
    assert from_file(b"Tickets\n31\n32\n").ids == [31, 32]


def test_excel_files_with_a_byte_order_mark_and_semicolons_are_read():
    content = "\ufeffId;Subject\r\n41;Caf\u00e9, fermé\r\n42;Other\r\n".encode()

    assert from_file(content).ids == [41, 42]


def test_bad_cells_in_a_csv_are_reported_by_line():
    problems = problems_of(from_file, b"id,subject\n51,a\nfifty,b\n53,c\n")

    assert problems == ["line 3: “fifty” is not a ticket id"]


def test_several_columns_without_an_id_column_are_refused():
    problems = problems_of(from_file, b"number,subject\n51,a\n")

    assert "none is named “id” or “ticket_id”" in problems[0]


def test_a_file_that_is_not_a_csv_is_read_as_a_plain_list():
    assert from_file(b"61, 62\n63 64\n", name="ids.txt").ids == [61, 62, 63, 64]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\xff\xfe1\x002\x00", "not UTF-8 text"),
        (b"1\n" * (MAX_FILE_BYTES // 2 + 1), "larger than 5 MB"),
    ],
)
def test_unusable_files_are_refused_with_the_reason(content, message):
    problems = problems_of(from_file, content)

    assert message in problems[0]
