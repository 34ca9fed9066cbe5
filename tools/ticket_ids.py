"""Lists of ticket ids that people paste or upload, read and checked.

Both readers give the ids in the order first seen, without repeats, and
raise TicketIdError with every problem (by line) when the list cannot be used
as it is: a person fixes a spreadsheet faster from the whole list of problems
than from one at a time.
"""

import csv
import io
import re
from dataclasses import dataclass
from typing import IO

# A file of 50,000 ids is under 1 MB even with a few more columns; a bigger
# one is almost surely the wrong file.
MAX_FILE_BYTES = 5 * 1024 * 1024
# Beyond this many, further problems are counted, not listed.
MAX_PROBLEMS_SHOWN = 10

ID_COLUMNS = ("id", "ticket_id")

_SEPARATORS = re.compile(r"[\s,;]+")


class TicketIdError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TicketIdList:
    ids: list[int]
    repeats: int  # how many ids appeared more than once and were dropped

    @property
    def count(self) -> int:
        return len(self.ids)


def ids_from_text(text: str, *, most: int) -> TicketIdList:
    """Ids separated by commas, semicolons, spaces or new lines."""
    cells = [
        (number, cell)
        for number, line in enumerate(text.splitlines(), start=1)
        for cell in _SEPARATORS.split(line)
        if cell
    ]
    return _checked(cells, most=most)


def ids_from_file(upload: IO[bytes], name: str, *, most: int) -> TicketIdList:
    """Ids from an uploaded file: a CSV file (by its name) as ids_from_csv
    reads it, any other as a plain list, as ids_from_text reads it."""
    text = _decoded(upload)
    if name.lower().endswith(".csv"):
        return ids_from_csv_text(text, most=most)
    return ids_from_text(text, most=most)


def ids_from_csv_text(text: str, *, most: int) -> TicketIdList:
    """Ids from a CSV file's `id` or `ticket_id` column (any case), or from
    its only column, with or without a header."""
    rows = _csv_rows(text)
    if not rows:
        raise TicketIdError(["The file is empty."])

    column, has_header = _id_column(rows[0][1])
    cells = [
        (number, row[column].strip() if column < len(row) else "")
        for number, row in (rows[1:] if has_header else rows)
    ]
    return _checked([(number, cell) for number, cell in cells if cell], most=most)


def _decoded(upload: IO[bytes]) -> str:
    raw = upload.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        megabytes = MAX_FILE_BYTES // (1024 * 1024)
        raise TicketIdError(
            [f"The file is larger than {megabytes} MB; upload only the ticket ids."]
        )
    try:
        # utf-8-sig drops the byte-order mark Excel writes at the start.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TicketIdError(
            ["The file is not UTF-8 text; save it as “CSV UTF-8” and try again."]
        ) from None


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows, each with the line it ends on (a quoted cell can
    hold a line break, so a row may span lines)."""
    first_line = text.split("\n", 1)[0]
    # Excel writes ";" where the decimal separator is a comma.
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as error:
        raise TicketIdError([f"line {reader.line_num}: {error}"]) from error
    return rows


def _id_column(first_row: list[str]) -> tuple[int, bool]:
    """Which column holds the ids, and whether the first row is a header."""
    names = [cell.strip().lower() for cell in first_row]
    for wanted in ID_COLUMNS:
        if wanted in names:
            return names.index(wanted), True
    if len(names) == 1:
        return 0, not names[0].isdigit()
    raise TicketIdError(
        [
            "The file has several columns but none is named “id” or “ticket_id”; "
            "name the column of ticket ids, or upload a single column."
        ]
    )


def _checked(cells: list[tuple[int, str]], *, most: int) -> TicketIdList:
    problems = [
        f"line {number}: “{_shortened(cell)}” is not a ticket id"
        for number, cell in cells
        if not _is_ticket_id(cell)
    ]
    if problems:
        raise TicketIdError(_capped(problems))

    ids = list(dict.fromkeys(int(cell) for _, cell in cells))
    if not ids:
        raise TicketIdError(["No ticket ids found."])
    if len(ids) > most:
        raise TicketIdError(
            [f"That is {len(ids):,} tickets; this tool takes at most {most:,} a run."]
        )
    return TicketIdList(ids=ids, repeats=len(cells) - len(ids))


def _is_ticket_id(cell: str) -> bool:
    # Ids are 64-bit numbers in Zendesk; 18 digits always fit.
    return cell.isascii() and cell.isdigit() and len(cell) <= 18 and int(cell) > 0


def _shortened(cell: str) -> str:
    return cell if len(cell) <= 30 else cell[:29] + "…"


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS_SHOWN:
        return problems
    hidden = len(problems) - MAX_PROBLEMS_SHOWN
    return problems[:MAX_PROBLEMS_SHOWN] + [f"and {hidden:,} more"]
