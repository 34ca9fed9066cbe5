"""Per-ticket results as CSV or JSON, written row by row.

A job may hold 50,000 results or more: rows are read from the database in
chunks and written out as they come, so a download starts at once and the
process never holds every row. The job pages and the admin's export action
both write through here.
"""

import csv
import json
import logging
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from jobs.models import Job, TicketResult
from jobs.ticket_links import ticket_url

logger = logging.getLogger(__name__)

# Rows fetched from the database a query at a time.
READ_CHUNK_ROWS = 2_000
# Rows joined into one piece of the response: one write per row would make
# 50,000 tiny writes to the socket.
WRITE_BATCH_ROWS = 500

COLUMNS = [
    "job",
    "tool",
    "ticket_id",
    "ticket_url",
    "ticket_status",
    "tags_before",
    "fields_before",
    "change",
    "outcome",
    "error",
    "zendesk_job_id",
]
# The columns read from each result row; the others come from its job.
_RESULT_FIELDS = [name for name in COLUMNS if name not in ("job", "tool", "ticket_url")]
# A spreadsheet runs a cell starting with one of these as a formula; an error
# message from Zendesk is not trusted to be plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_filename(jobs: list[Job], extension: str) -> str:
    """The tool, the job and the day: tag-manager-job-12-2026-12-04.csv."""
    today = timezone.localdate().isoformat()
    if len(jobs) == 1:
        job = jobs[0]
        return f"{job.tool.slug}-job-{job.pk}-{today}.{extension}"
    return f"jobs-{'-'.join(str(job.pk) for job in jobs[:5])}-{today}.{extension}"


def result_records(jobs: Iterable[Job]) -> Iterator[dict]:
    """Every result of every job, in order, one dict per ticket, with its
    keys in COLUMNS order. `fields_before` and `change` are empty for tools
    that change tags only."""
    for job in jobs:
        rows = _result_rows(job).iterator(chunk_size=READ_CHUNK_ROWS)
        for row in rows:
            record = {"job": job.pk, "tool": job.tool.slug, **row}
            record["ticket_url"] = ticket_url(row["ticket_id"]) or ""
            yield {name: record[name] for name in COLUMNS}


def _result_rows(job: Job) -> QuerySet:
    results = TicketResult.objects.filter(job=job).order_by("id")
    return results.values(*_RESULT_FIELDS)


def csv_pieces(jobs: Iterable[Job]) -> Iterator[str]:
    """The CSV file, a few hundred lines a piece."""
    writer = csv.writer(_Echo())
    lines = [writer.writerow(COLUMNS)]
    for record in result_records(jobs):
        lines.append(writer.writerow([_csv_cell(record, name) for name in COLUMNS]))
        if len(lines) >= WRITE_BATCH_ROWS:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def _csv_cell(record: dict, name: str) -> object:
    value = record[name]
    if name == "tags_before":
        value = " ".join(value)  # a tag never holds a space
    elif name in ("fields_before", "change"):
        value = json.dumps(value, ensure_ascii=False) if value else ""
    return defused_cell(value)


def defused_cell(value: object) -> object:
    """The value as a spreadsheet will show it rather than run it."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file for csv.writer that hands each line back instead of keeping it."""

    def write(self, text: str) -> str:
        return text


def json_pieces(jobs: Iterable[Job]) -> Iterator[str]:
    """A JSON array of the results, a few hundred objects a piece."""
    yield "["
    separator = "\n"
    lines = []
    for record in result_records(jobs):
        lines.append(separator + json.dumps(record, ensure_ascii=False))
        separator = ",\n"
        if len(lines) >= WRITE_BATCH_ROWS:
            yield "".join(lines)
            lines = []
    yield "".join(lines) + "\n]\n"


def export_response(jobs: list[Job], kind: str) -> StreamingHttpResponse:
    """A download of the jobs' results; `kind` is "csv" or "json"."""
    if kind == "csv":
        pieces, content_type = csv_pieces(jobs), "text/csv; charset=utf-8"
    elif kind == "json":
        pieces, content_type = json_pieces(jobs), "application/json"
    else:
        raise ValueError(f"No export of kind {kind!r}")

    filename = export_filename(jobs, kind)
    response = StreamingHttpResponse(pieces, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    logger.info("Exporting results of jobs %s as %s", [j.pk for j in jobs], kind)
    return response
