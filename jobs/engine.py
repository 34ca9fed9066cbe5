"""The job engine: take the list of tickets, then change them in chunks.

The list of tickets is taken whole and stored before anything changes. A view
that filters on the very tag being changed shrinks while it is tagged, and
paging through it during the update would skip tickets.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F

from jobs.chunk_results import (
    ChunkOutcome,
    missing_result_reason,
    outcome_from_job_status,
    outcome_from_tickets,
)
from jobs.claims import Claim, ClaimLost, Heartbeat, owned
from jobs.models import Job, TicketResult
from jobs.pipeline import ChunkQueue, SentChunk, Window
from jobs.rq_progress import mirror_progress
from tools.base import ATTEMPTS_SINCE, CLOCK_MARGIN, BaseTool, TicketPlan
from tools.sources import NOT_FOUND
from zendesk import (
    AuthenticationError,
    ServerError,
    TicketSummary,
    TooManyJobsError,
    ZendeskClient,
    ZendeskError,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 100  # update_many takes at most 100 ids
COLLECT_BATCH = 1_000
STORE_EVERY_SECONDS = 2.0
MIRROR_EVERY_SECONDS = 1.0
FIRST_POLL_SECONDS = 0.2
LONGEST_POLL_SECONDS = 2.0
DONE_STATES = {"completed", "failed", "killed"}

Outcome = TicketResult.Outcome

TICKET_NOT_FOUND = "Not found in Zendesk: deleted, merged or never there"
# Written on a chunk's rows just before it is sent, and replaced by Zendesk's
# job id once Zendesk answers. A run that finds it (its predecessor stopped in
# between) cannot know whether Zendesk took the chunk, so it asks the tickets
# before sending anything again: a comment must not be added twice.
UNCONFIRMED_SEND = "unconfirmed"
CHANGED_SINCE_LISTED = (
    "Someone changed this ticket after the job took its list, so the change "
    "was not made; Retry looks at the ticket again"
)
CLOSED_TICKET_PREDICTION = (
    "Closed: Zendesk refuses changes to closed tickets unless the account lets "
    "admins edit them"
)


class InlineLimitExceeded(Exception):
    """An inline run found more tickets than may be changed in a request."""


class JobCancelled(Exception):
    """Someone asked for the job to stop; it stops between chunks."""


class JobEngine:
    def __init__(
        self,
        job: Job,
        tool: BaseTool,
        client: ZendeskClient,
        *,
        claim: Claim,
        heartbeat: Heartbeat | None = None,
        max_tickets: int | None = None,
        job_wait_seconds: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self.claim = claim
        self.heartbeat = heartbeat
        self.max_tickets = max_tickets
        # How long a chunk may wait for its Zendesk job, or for room to queue
        # one; an inline run holds a web request and waits less.
        self.job_wait_seconds = job_wait_seconds or settings.ZENDESK_JOB_WAIT_SECONDS
        self.tool = tool
        self.client = client
        self.params = job.params
        self.sleep = sleep
        self.clock = clock
        self.window = Window(settings.ZENDESK_MAX_JOBS_IN_FLIGHT)
        self._mirrored_at = -MIRROR_EVERY_SECONDS
        self._typical_job_seconds = FIRST_POLL_SECONDS

    def run(self) -> None:
        if self.job.phase == Job.Phase.COLLECTING:
            self.collect()
        if not self.job.dry_run:
            self.update_pending()

    # Taking the list of tickets.

    def collect(self) -> None:
        # A collection cut short (its worker died) keeps the rows it stored:
        # the source is read again from the start and only new tickets are
        # added, so the count of tickets found never goes back.
        seen = set(self.job.results.values_list("ticket_id", flat=True))
        batch: list[TicketResult] = []
        stored_at = self.clock()
        tickets = self.tool.iter_tickets(self.client, self.params)

        for ticket in tickets:
            if ticket.id in seen:
                continue  # a ticket that moved within the view while paging
            seen.add(ticket.id)
            batch.append(self._planned_result(ticket))
            if len(batch) >= COLLECT_BATCH or self._store_due(stored_at):
                self._store_collected(batch, collected=len(seen))
                batch, stored_at = [], self.clock()
                self._check_still_wanted()
            if self.max_tickets is not None and len(seen) > self.max_tickets:
                raise InlineLimitExceeded
            if len(seen) >= self.params["limit"]:
                break  # stop before asking Zendesk for a page we won't use

        self._store_collected(batch, collected=len(seen))
        self._finish_collecting(total=len(seen))

    def _store_due(self, stored_at: float) -> bool:
        """Whether to store what was found so far although the batch is not
        full: when planning costs a call per ticket (a macro's preview), the
        page would otherwise show "0 found" for minutes."""
        return self.clock() - stored_at >= STORE_EVERY_SECONDS

    def _planned_result(self, ticket: TicketSummary) -> TicketResult:
        if ticket.status == NOT_FOUND:
            # Asked for by id (a list, a retry), but gone from Zendesk.
            plan = TicketPlan(needs_change=False, failure=TICKET_NOT_FOUND)
        else:
            plan = self.tool.plan_ticket(self.client, ticket, self.params)
        outcome, error = self._planned_outcome(ticket, plan)

        return TicketResult(
            job=self.job,
            ticket_id=ticket.id,
            ticket_status=ticket.status,
            tags_before=list(ticket.tags),
            fields_before=plan.fields_before,
            change=plan.change,
            outcome=outcome,
            error=error,
        )

    def _planned_outcome(
        self, ticket: TicketSummary, plan: TicketPlan
    ) -> tuple[str, str]:
        if plan.failure:
            return Outcome.FAILED, plan.failure
        if plan.not_applicable:
            return Outcome.NOT_APPLICABLE, plan.not_applicable
        if not plan.needs_change:
            return Outcome.UNCHANGED, ""
        if self.job.dry_run and ticket.status == "closed":
            # A real run still sends these and records Zendesk's own answer.
            return Outcome.FAILED, CLOSED_TICKET_PREDICTION
        if self.job.dry_run:
            return Outcome.WOULD_CHANGE, ""
        return Outcome.PENDING, ""

    def _store_collected(self, batch: list[TicketResult], *, collected: int) -> None:
        with transaction.atomic():
            # While collecting, `total` counts the tickets found so far.
            self._update_own_row(total=collected)
            TicketResult.objects.bulk_create(batch)
        self._mirror_progress()

    def _finish_collecting(self, *, total: int) -> None:
        by_outcome = dict(
            self.job.results.values_list("outcome").annotate(n=Count("id")).order_by()
        )
        unchanged = by_outcome.get(Outcome.UNCHANGED, 0)
        failed = by_outcome.get(Outcome.FAILED, 0)
        not_applicable = by_outcome.get(Outcome.NOT_APPLICABLE, 0)
        # Tickets already in the wanted state are done: they cost no call.
        processed = total if self.job.dry_run else unchanged + failed + not_applicable
        self._update_own_row(
            total=total,
            unchanged=unchanged,
            failed=failed,
            not_applicable=not_applicable,
            processed=processed,
            phase=Job.Phase.UPDATING,
        )
        self.job.refresh_from_db()
        logger.info(
            "Job %s collected %d tickets (%d already correct)",
            self.job.pk,
            total,
            unchanged,
        )

    # Changing them.

    def update_pending(self) -> None:
        """Send the pending chunks with several Zendesk jobs in flight, and
        record each chunk as soon as its job ends.

        A cancel request stops the sending; the chunks already in flight are
        still settled, since Zendesk will carry them out anyway.
        """
        in_flight = {chunk.zendesk_job_id: chunk for chunk in self._sent_earlier()}
        queue = ChunkQueue(self._unsent_chunks())
        for ticket_ids in self._unconfirmed_chunks():
            resend = self._settle_unconfirmed(ticket_ids)
            if resend:
                queue.put_back(resend)
        stop: JobCancelled | None = None
        poll_wait = FIRST_POLL_SECONDS

        while True:
            if stop is None:
                try:
                    self._send_while_room(queue, in_flight)
                except JobCancelled as cancelled:
                    stop = cancelled
            if not in_flight:
                break
            self.sleep(poll_wait)
            settled = self._poll(in_flight, queue)
            poll_wait = self._next_poll_wait(poll_wait, settled)

        if stop is not None:
            raise stop

    def _next_poll_wait(self, last_wait: float, settled: int) -> float:
        """Soon again while jobs are ending, but no more often than a third
        of the time Zendesk's jobs have been taking (each poll spends the
        rate budget the updates need); slower while they stay queued."""
        if not settled:
            return min(last_wait * 1.5, LONGEST_POLL_SECONDS)
        wait = self._typical_job_seconds / 3
        return min(max(wait, FIRST_POLL_SECONDS), LONGEST_POLL_SECONDS)

    def _sent_earlier(self) -> list[SentChunk]:
        """Chunks an earlier run sent but never recorded (it crashed)."""
        sent = self.job.results.filter(outcome=Outcome.PENDING).exclude(
            zendesk_job_id__in=["", UNCONFIRMED_SEND]
        )
        chunks: dict[str, list[int]] = defaultdict(list)
        for zendesk_job_id, ticket_id in sent.values_list(
            "zendesk_job_id", "ticket_id"
        ):
            chunks[zendesk_job_id].append(ticket_id)
        if chunks:
            logger.info(
                "Job %s: %d chunks were sent before the job was resumed; "
                "reading their Zendesk jobs",
                self.job.pk,
                len(chunks),
            )
        now = self.clock()
        return [
            SentChunk(job_id, ids, sent_at=now, resend_if_vanished=True)
            for job_id, ids in chunks.items()
        ]

    def _unconfirmed_chunks(self) -> Iterator[list[int]]:
        """Chunks an earlier run was sending when it stopped."""
        ticket_ids = list(
            self.job.results.filter(
                outcome=Outcome.PENDING, zendesk_job_id=UNCONFIRMED_SEND
            ).values_list("ticket_id", flat=True)
        )
        if ticket_ids:
            logger.info(
                "Job %s: %d tickets were being sent when the job stopped; "
                "checking whether Zendesk applied them",
                self.job.pk,
                len(ticket_ids),
            )
        return _batches(ticket_ids, CHUNK_SIZE)

    def _settle_unconfirmed(self, ticket_ids: list[int]) -> list[int]:
        """Record the tickets of a chunk that may or may not have reached
        Zendesk which already carry the change (or are gone); return the
        rest, to be sent again."""
        applied = self.tool.find_applied(
            self.client,
            ticket_ids,
            self.params,
            changes=self._planned_changes(ticket_ids),
            since=self._first_attempt(),
        )
        outcome = ChunkOutcome(
            updated=[pk for pk in ticket_ids if applied.get(pk)],
            failures={
                pk: TICKET_NOT_FOUND for pk in ticket_ids if applied.get(pk) is None
            },
        )
        self._record(ticket_ids, outcome)
        return [pk for pk in ticket_ids if applied.get(pk) is False]

    def _first_attempt(self) -> datetime:
        """Since when a change seen on a ticket may be this job's own (or,
        for a retry, that of an earlier job of the chain)."""
        since = self.params.get(ATTEMPTS_SINCE)
        first = datetime.fromisoformat(since) if since else self.job.created_at
        return first - CLOCK_MARGIN

    def _planned_changes(self, ticket_ids: list[int]) -> dict[int, dict]:
        rows = self.job.results.filter(ticket_id__in=ticket_ids)
        return dict(rows.values_list("ticket_id", "change"))

    def _unsent_chunks(self) -> Iterator[list[int]]:
        last_row_id = 0
        while True:
            rows = list(
                self.job.results.filter(
                    outcome=Outcome.PENDING, zendesk_job_id="", id__gt=last_row_id
                )
                .order_by("id")
                .values_list("id", "ticket_id")[:CHUNK_SIZE]
            )
            if not rows:
                return
            last_row_id = rows[-1][0]
            yield [ticket_id for _, ticket_id in rows]

    def _send_while_room(
        self, queue: ChunkQueue, in_flight: dict[str, SentChunk]
    ) -> None:
        while self.window.room(len(in_flight)) > 0:
            ticket_ids = queue.next()
            if ticket_ids is None:
                return
            try:
                self._check_still_wanted()
            except JobCancelled:
                queue.put_back(ticket_ids)
                raise

            # With jobs in flight, a full Zendesk queue is a reason to poll
            # them; with none, a reason to wait.
            try:
                sent = self._send_chunk(ticket_ids, wait_for_room=not in_flight)
            except TooManyJobsError:
                queue.put_back(ticket_ids)
                return
            if sent is not None:
                in_flight[sent.zendesk_job_id] = sent

    def _send_chunk(
        self, ticket_ids: list[int], *, wait_for_room: bool
    ) -> SentChunk | None:
        """Send one chunk. Returns it as sent, or None when it was settled at
        once (Zendesk refused it, or did not confirm it). Without
        `wait_for_room`, Zendesk's TooManyJobs is raised to the caller."""
        changes = self._planned_changes(ticket_ids)
        self._mark_sent(ticket_ids, UNCONFIRMED_SEND)
        try:
            if wait_for_room:
                job_status = self._send(ticket_ids, changes)
            else:
                job_status = self.tool.send_update(
                    self.client, ticket_ids, self.params, changes=changes
                )
        except (TooManyJobsError, AuthenticationError, JobCancelled):
            # Nothing was queued: Zendesk was full, refused the credentials
            # (no later chunk can succeed either, the job stops), or the job
            # was cancelled while waiting for room.
            self._mark_sent(ticket_ids, "")
            raise
        except ServerError as error:
            # Retries are spent, but an answer lost on the way back may hide
            # an update Zendesk did queue: the tickets themselves tell.
            reason = f"Zendesk did not confirm the update: {error}"
            self._record(ticket_ids, self._outcome_from_tickets(ticket_ids, reason))
            return None
        except ZendeskError as error:
            # Zendesk refused the update outright; the job goes on.
            reason = f"Zendesk did not take the update: {error}"
            self._record(
                ticket_ids, ChunkOutcome(failures=dict.fromkeys(ticket_ids, reason))
            )
            return None

        self.window.saw_remaining(self.client.inflight_jobs_remaining)
        # Written before waiting: a run resumed after a crash polls this
        # Zendesk job instead of asking the tickets.
        self._mark_sent(ticket_ids, job_status["id"])
        return SentChunk(job_status["id"], ticket_ids, sent_at=self.clock())

    def _mark_sent(self, ticket_ids: list[int], zendesk_job_id: str) -> None:
        """Note on the chunk's rows how far its sending got. Only while this
        run holds the job: a run that lost it must not hide the rows from
        the run that has it (which then sends them again, or asks the
        tickets first)."""
        marked = self.job.results.filter(
            ticket_id__in=ticket_ids,
            outcome=Outcome.PENDING,
            job__status=Job.Status.RUNNING,
            job__claim_token=self.claim.token,
        ).update(zendesk_job_id=zendesk_job_id)
        if not marked:
            raise ClaimLost

    def _poll(self, in_flight: dict[str, SentChunk], queue: ChunkQueue) -> int:
        """Read the in-flight jobs' statuses, up to 100 a call, and record
        the chunks whose jobs have ended. Returns how many left the window."""
        settled = 0
        for job_ids in _batches(list(in_flight), CHUNK_SIZE):
            for job_id, job_status in self._read_statuses(job_ids).items():
                chunk = in_flight[job_id]
                if job_status is None and chunk.resend_if_vanished:
                    resend = self._settle_unconfirmed(chunk.ticket_ids)
                    if resend:
                        queue.put_back(resend)
                else:
                    final = self._final_status(chunk, job_status)
                    if final is None:
                        continue  # still queued or working
                    self._record(chunk.ticket_ids, self._outcome(chunk, final))
                    self._note_job_time(self.clock() - chunk.sent_at)
                del in_flight[job_id]
                settled += 1
        self.window.freed(settled)
        return settled

    def _note_job_time(self, seconds: float) -> None:
        # A moving average: recent jobs count most.
        self._typical_job_seconds += (seconds - self._typical_job_seconds) / 4

    def _final_status(self, chunk: SentChunk, job_status: dict | None) -> dict | None:
        """The status to record the chunk by, or None while its job runs."""
        if job_status is None:
            # Zendesk keeps statuses for a limited time; a vanished one tells
            # nothing about the tickets, so it is no success.
            return {"id": chunk.zendesk_job_id, "status": "vanished", "message": ""}
        if job_status["status"] in DONE_STATES | {"unreadable"}:
            return job_status
        if self.clock() - chunk.sent_at >= self.job_wait_seconds:
            waited = self.job_wait_seconds
            return {**job_status, "status": "timed_out", "waited": waited}
        return None

    def _read_statuses(self, job_ids: list[str]) -> dict[str, dict | None]:
        """Each job's status; None for one Zendesk no longer knows."""
        try:
            found = self.client.show_job_statuses(job_ids)
        except AuthenticationError:
            raise
        except ZendeskError as error:
            # Retries are spent: settle these chunks from the tickets.
            unreadable = {"status": "unreadable", "message": str(error)}
            return {job_id: {"id": job_id, **unreadable} for job_id in job_ids}
        by_id = {job_status.get("id"): job_status for job_status in found}
        return {job_id: by_id.get(job_id) for job_id in job_ids}

    def _check_still_wanted(self) -> None:
        """Stop before the next step if another process has the job now, or
        if someone cancelled it (a flag in the database, so that it is seen
        whichever process asked)."""
        if self.heartbeat is not None and self.heartbeat.lost:
            raise ClaimLost
        # The heartbeat may not have noticed yet: ask the row itself.
        row = Job.objects.filter(pk=self.job.pk).values(
            "status", "claim_token", "cancel_requested"
        )
        current = row.first() or {}
        if (current.get("status"), current.get("claim_token")) != (
            Job.Status.RUNNING,
            self.claim.token,
        ):
            raise ClaimLost
        if current.get("cancel_requested"):
            raise JobCancelled

    def _outcome(self, chunk: SentChunk, job_status: dict) -> ChunkOutcome:
        ticket_ids = chunk.ticket_ids
        outcome, unreported = outcome_from_job_status(ticket_ids, job_status)
        if outcome.failures:
            self._recheck_safe_update_failures(outcome)
        if unreported:
            # Settled by the tickets themselves: nothing to check twice.
            reason = missing_result_reason(job_status)
            checked = self._outcome_from_tickets(unreported, reason)
            outcome.updated += checked.updated
            outcome.failures |= checked.failures
        return outcome

    def _recheck_safe_update_failures(self, outcome: ChunkOutcome) -> None:
        """A safe update fails once its ticket has changed since the
        snapshot, and the change may be this job's own: the same chunk sent
        earlier, its answer lost. Such failures count as updated when the
        ticket shows the change."""
        changes = self._planned_changes(list(outcome.failures))
        guarded = [pk for pk, change in changes.items() if change.get("safe_update")]
        if not guarded:
            return
        applied = set(self._outcome_from_tickets(guarded, reason="").updated)
        for ticket_id in guarded:
            error = outcome.failures.pop(ticket_id)
            if ticket_id in applied:
                outcome.updated.append(ticket_id)
            else:
                outcome.failures[ticket_id] = _explained_refusal(error)

    def _outcome_from_tickets(self, ticket_ids: list[int], reason: str) -> ChunkOutcome:
        return outcome_from_tickets(
            client=self.client,
            tool=self.tool,
            params=self.params,
            ticket_ids=ticket_ids,
            changes=self._planned_changes(ticket_ids),
            since=self._first_attempt(),
            reason=reason,
        )

    def _send(self, ticket_ids: list[int], changes: dict[int, dict]) -> dict:
        """Send the update, waiting while Zendesk has too many jobs queued."""
        deadline = self.clock() + self.job_wait_seconds
        while True:
            try:
                return self.tool.send_update(
                    self.client, ticket_ids, self.params, changes=changes
                )
            except TooManyJobsError as error:
                time_left = deadline - self.clock()
                if time_left <= 0:
                    # Nothing was queued, so there is nothing to check.
                    raise ZendeskError(
                        "Zendesk kept refusing new jobs (too many queued)"
                    ) from error
                wait = min(error.retry_after or LONGEST_POLL_SECONDS, time_left)
                logger.warning(
                    "Job %s: Zendesk has too many jobs queued, waiting %.1f s",
                    self.job.pk,
                    wait,
                )
                self.sleep(wait)
                # The wait can be long: someone may have cancelled the job,
                # or another run taken it, meanwhile.
                self._check_still_wanted()

    def _record(self, ticket_ids: list[int], outcome: ChunkOutcome) -> None:
        """Write the chunk's outcomes and counters together.

        Only rows still pending change, and the counters grow by the rows
        that did, with database-side arithmetic: a ticket is never counted
        twice, and a cancel request or an admin's edit made meanwhile is
        never overwritten. A run that has lost its claim writes nothing.
        """
        with transaction.atomic():
            pending = self.job.results.filter(outcome=Outcome.PENDING)
            updated = failed = 0
            if outcome.updated:
                updated = pending.filter(ticket_id__in=outcome.updated).update(
                    outcome=Outcome.UPDATED, error=""
                )
            for error, ids in _group_by_error(outcome.failures).items():
                failed += pending.filter(ticket_id__in=ids).update(
                    outcome=Outcome.FAILED, error=error
                )
            self._update_own_row(
                processed=F("processed") + updated + failed,
                succeeded=F("succeeded") + updated,
                failed=F("failed") + failed,
            )
        self._mirror_progress()

        if outcome.failures:
            logger.info(
                "Job %s chunk: %d updated, %d failed",
                self.job.pk,
                len(outcome.updated),
                len(outcome.failures),
            )

    def _mirror_progress(self) -> None:
        """Copy the counters to the queue dashboards, once a second at most."""
        now = self.clock()
        if now - self._mirrored_at >= MIRROR_EVERY_SECONDS:
            self._mirrored_at = now
            mirror_progress(self.job.pk)

    def _update_own_row(self, **fields) -> None:
        """Update the job's row, unless another process has taken the job."""
        if not owned(self.claim).update(**fields):
            raise ClaimLost


def _explained_refusal(error: str) -> str:
    """Zendesk's refusal of a safe update, said in words for people."""
    if "conflict" not in error.lower():
        return error
    return f"{CHANGED_SINCE_LISTED} (Zendesk: {error})"


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _group_by_error(failures: dict[int, str]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for ticket_id, error in failures.items():
        grouped[error].append(ticket_id)
    return grouped
