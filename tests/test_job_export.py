"""Exports of a job's per-ticket results: streamed, complete, and named for
the tool, the job and the day."""

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from jobs import exports
from jobs.models import Job, TicketResult
from tools.registry import get_tool

pytestmark = pytest.mark.django_db

BIG = 50_000


@pytest.fixture
def agent(make_user):
    return make_user("agent")


def make_job(user) -> Job:
    params = {
        "source": {"type": "view", "id": 1, "title": "Everything"},
        "operation": "add",
        "tags": ["vip"],
        "limit": BIG,
        "dry_run": False,
    }
    tool = get_tool("tag-manager").get_row()
    return Job.objects.create(
        tool=tool, created_by=user, params=params, status=Job.Status.SUCCEEDED
    )


def add_results(job: Job, count: int) -> None:
    TicketResult.objects.bulk_create(
        (
            TicketResult(
                job=job, ticket_id=n + 1, tags_before=["base"], outcome="updated"
            )
            for n in range(count)
        ),
        batch_size=5_000,
    )


class CountingRows:
    """Stands in for the rows query and counts the rows handed out."""

    def __init__(self, queryset) -> None:
        self.queryset = queryset
        self.read = 0
        self.chunk_sizes: list[int] = []

    def iterator(self, chunk_size: int):
        self.chunk_sizes.append(chunk_size)
        for row in self.queryset.iterator(chunk_size=chunk_size):
            self.read += 1
            yield row


@pytest.fixture
def counted_rows(monkeypatch):
    counters: list[CountingRows] = []
    real = exports._result_rows

    def counting(job):
        counters.append(CountingRows(real(job)))
        return counters[-1]

    monkeypatch.setattr(exports, "_result_rows", counting)
    return counters


def test_a_50000_row_export_starts_before_the_last_row_is_read(
    client, agent, counted_rows
):
    job = make_job(agent)
    add_results(job, BIG)
    client.force_login(agent)

    response = client.get(f"/jobs/{job.pk}/export.csv")
    assert isinstance(response, StreamingHttpResponse)
    pieces = iter(response.streaming_content)
    first = next(pieces).decode()

    rows = counted_rows[0]
    assert first.startswith("job,tool,ticket_id,ticket_url,")
    assert 0 < rows.read < 1_000  # not one row past the first piece's own
    assert rows.chunk_sizes == [exports.READ_CHUNK_ROWS]

    rest = b"".join(pieces).decode()
    lines = (first + rest).splitlines()
    assert rows.read == BIG
    assert len(lines) == BIG + 1
    assert lines[-1].startswith(f"{job.pk},tag-manager,{BIG},")


def test_the_csv_holds_every_result_with_its_outcome_and_error(client, agent):
    job = make_job(agent)
    TicketResult.objects.create(
        job=job,
        ticket_id=5,
        ticket_status="open",
        tags_before=["a", "b"],
        outcome="updated",
    )
    TicketResult.objects.create(
        job=job,
        ticket_id=6,
        ticket_status="closed",
        outcome="failed",
        error='=HYPERLINK("http://x") closed prevents ticket update',
    )
    client.force_login(agent)

    response = client.get(f"/jobs/{job.pk}/export.csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))

    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="tag-manager-job-{job.pk}-{today}.csv"'
    )
    assert [(r["ticket_id"], r["outcome"]) for r in rows] == [
        ("5", "updated"),
        ("6", "failed"),
    ]
    assert rows[0]["tags_before"] == "a b"
    # A spreadsheet must not run Zendesk's text as a formula.
    assert rows[1]["error"].startswith("'=HYPERLINK")


def test_the_json_export_is_one_array_of_results(client, agent):
    job = make_job(agent)
    add_results(job, 1_234)
    client.force_login(agent)

    response = client.get(f"/jobs/{job.pk}/export.json")
    records = json.loads(b"".join(response.streaming_content))

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith(
        f'-job-{job.pk}-{timezone.localdate().isoformat()}.json"'
    )
    assert len(records) == 1_234
    assert records[0] == {
        "job": job.pk,
        "tool": "tag-manager",
        "ticket_id": 1,
        "ticket_url": "",
        "ticket_status": "",
        "tags_before": ["base"],
        "fields_before": {},
        "change": {},
        "outcome": "updated",
        "error": "",
        "zendesk_job_id": "",
    }


def test_an_empty_job_exports_a_header_or_an_empty_array(client, agent):
    job = make_job(agent)
    client.force_login(agent)

    csv_text = b"".join(client.get(f"/jobs/{job.pk}/export.csv").streaming_content)
    json_text = b"".join(client.get(f"/jobs/{job.pk}/export.json").streaming_content)

    assert csv_text.decode().splitlines() == [",".join(exports.COLUMNS)]
    assert json.loads(json_text) == []


def test_ticket_links_go_to_zendesk_unless_it_is_the_sandbox(client, agent, settings):
    job = make_job(agent)
    TicketResult.objects.create(job=job, ticket_id=42, outcome="updated")
    client.force_login(agent)

    settings.ZENDESK_URL = "http://127.0.0.1:9/sandbox"
    sandbox_page = client.get(job.get_absolute_url()).content.decode()
    settings.ZENDESK_URL = "https://acme.zendesk.com"
    real_page = client.get(job.get_absolute_url()).content.decode()
    records = json.loads(
        b"".join(client.get(f"/jobs/{job.pk}/export.json").streaming_content)
    )

    assert "/agent/tickets/42" not in sandbox_page
    assert "the sandbox has no ticket pages" in sandbox_page
    assert 'href="https://acme.zendesk.com/agent/tickets/42"' in real_page
    assert records[0]["ticket_url"] == "https://acme.zendesk.com/agent/tickets/42"


def test_a_csv_cell_a_spreadsheet_would_run_is_defused():
    record = {"tags_before": ["+1", "vip"], "error": "=HYPERLINK(x)"}

    assert exports._csv_cell(record, "tags_before") == "'+1 vip"
    assert exports._csv_cell(record, "error") == "'=HYPERLINK(x)"
