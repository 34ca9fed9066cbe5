"""The benchmark's table, its notes, and the machine it ran on."""

import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.floor import Floor, calls_floor
from bench.load_check import LoadFigures
from bench.per_ticket import PerTicketFigures
from bench.tagging import RunFigures

EXTRAPOLATE_TO = 50_000
ZENDESK_SINGLE_UPDATES_PER_MINUTE = 100


@dataclass
class Results:
    job_latency: float
    rate_limit: int
    budget_percent: int
    jobs_in_flight: int | None = None  # the product's own cap, if it has one
    limited: dict[int, tuple[RunFigures, Floor]] = field(default_factory=dict)
    unlimited: dict[int, RunFigures] = field(default_factory=dict)
    per_ticket: PerTicketFigures | None = None
    load: LoadFigures | None = None

    @property
    def budget_per_minute(self) -> float:
        return self.rate_limit * self.budget_percent / 100


def table(results: Results) -> str:
    header = (
        "| Tickets | Wall (s) | Floor (s) | Wall / floor | API calls | "
        "Calls per ticket | DB queries per chunk | Job-row writes per chunk | "
        "Worker peak RSS (MB) | Rate limit off: wall (s) | "
        "Rate limit off: tickets/s |"
    )
    lines = [header, "|" + "---|" * 11]
    for tickets, (run, floor) in sorted(results.limited.items()):
        lines.append(_engine_row(tickets, run, floor, results.unlimited.get(tickets)))
    for tickets, run in sorted(results.unlimited.items()):
        if tickets not in results.limited:
            lines.append(_engine_row(tickets, None, None, run))
    if results.per_ticket is not None:
        lines += _per_ticket_rows(results.per_ticket, results)
    return "\n".join(lines)


def _engine_row(tickets, run, floor, unlimited) -> str:
    cells = [f"{tickets:,}"]
    if run is None:
        cells += ["-"] * 8
    else:
        cells += [
            f"{run.wall_seconds:,.1f}",
            f"{floor.seconds:,.1f}",
            f"{run.wall_seconds / floor.seconds:.2f}x",
            _calls(run),
            f"{run.total_calls / tickets:.4f}",
            _number(run.update_phase("queries")),
            _number(run.job_row_writes_per_chunk()),
            _megabytes(run.worker.get("peak_rss_kb")),
        ]
    if unlimited is None:
        cells += ["-", "-"]
    else:
        rate = tickets / unlimited.wall_seconds
        cells += [f"{unlimited.wall_seconds:,.1f}", f"{rate:,.0f}"]
    return "| " + " | ".join(cells) + " |"


def _per_ticket_rows(figures: PerTicketFigures, results: Results) -> list[str]:
    limits = {
        "limit_per_minute": results.rate_limit,
        "budget_percent": results.budget_percent,
    }
    # The listing costs a page per 100 tickets on top of a call per ticket.
    calls_per_ticket = figures.calls / figures.tickets
    floor = calls_floor(figures.calls, **limits)
    # Scaled by the floor rather than by the count: the first two seconds'
    # worth of calls go at once, which a bigger run cannot repeat.
    calls_at_target = round(calls_per_ticket * EXTRAPOLATE_TO)
    extrapolated = figures.seconds / floor * calls_floor(calls_at_target, **limits)
    at_zendesk_cap = EXTRAPOLATE_TO / ZENDESK_SINGLE_UPDATES_PER_MINUTE * 60
    return [
        f"| {figures.tickets:,}, one tags call per ticket | {figures.seconds:,.1f} "
        f"| {floor:,.1f} | {figures.seconds / floor:.2f}x | {figures.calls:,} "
        f"| {calls_per_ticket:.3f} | - | - | - | - | - |",
        f"| {EXTRAPOLATE_TO:,}, one tags call per ticket (extrapolated) "
        f"| {extrapolated:,.0f} ({extrapolated / 3600:.1f} h; "
        f"{at_zendesk_cap / 3600:.1f} h at Zendesk's 100 single updates a minute) "
        f"| - | - | {calls_at_target:,} "
        f"| {calls_per_ticket:.3f} | - | - | - | - | - |",
    ]


def _calls(run: RunFigures) -> str:
    parts = [f"{count:,} {name}" for name, count in sorted(run.calls.items())]
    throttled = f"; {run.throttled} answered 429" if run.throttled else ""
    return f"{run.total_calls:,}: " + ", ".join(parts) + throttled


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _megabytes(kilobytes: int | None) -> str:
    return "-" if kilobytes is None else f"{kilobytes / 1024:.0f}"


def target_lines(results: Results) -> list[str]:
    """Tag Manager's performance targets against the largest run's figures."""
    lines = ["Targets (largest run):"]
    if results.limited:
        tickets = max(results.limited)
        run, floor = results.limited[tickets]
        ratio = run.wall_seconds / floor.seconds
        lines += [
            _target("calls per ticket", run.total_calls / tickets, 0.025, "{:.4f}"),
            _target("wall / floor", ratio, 1.1, "{:.2f}x"),
            _target(
                "worker peak RSS (MB)",
                run.worker.get("peak_rss_kb", 0) / 1024,
                200,
                "{:.0f}",
            ),
        ]
        writes = run.job_row_writes_per_chunk()
        if writes is not None:
            lines.append(_target("job-row writes per chunk", writes, 2, "{:.1f}"))
    if results.unlimited:
        tickets = max(results.unlimited)
        rate = tickets / results.unlimited[tickets].wall_seconds
        lines.append(_target("tickets/s, rate limit off", rate, 2000, "{:,.0f}", True))
    if results.load is not None:
        lines.append(_target("fragment p95 (ms)", results.load.p95_ms, 50, "{:.0f}"))
    return lines


def _target(name, value, target, form: str, at_least: bool = False) -> str:
    met = value >= target if at_least else value <= target
    sign = ">=" if at_least else "<="
    verdict = "met" if met else f"missed by {abs(value / target - 1):.0%}"
    return f"- {name}: {form.format(value)} (target {sign} {target:g}): {verdict}"


def load_line(load: LoadFigures) -> str:
    return (
        f"Job fragment under load: {load.pollers} pollers, one GET "
        f"/jobs/<id>/ (HX-Request) every {load.poll_interval:g} s each, for "
        f"{load.seconds} s (the job was running for {load.job_running_seconds:.0f} "
        f"s of it): {load.requests:,} requests served, {load.failures} failed; "
        f"p50 {load.p50_ms:.0f} ms, p95 {load.p95_ms:.0f} ms, "
        f"p99 {load.p99_ms:.0f} ms."
    )


def settings_line(results: Results) -> str:
    in_flight = ""
    if results.jobs_in_flight is not None:
        in_flight = (
            f" and keeps at most {results.jobs_in_flight} Zendesk jobs in flight"
        )
    return (
        f"Sandbox limit {results.rate_limit} requests a minute; the product "
        f"keeps to {results.budget_percent}% of it "
        f"({results.budget_per_minute:.0f} a minute){in_flight}; modelled "
        f"Zendesk job latency {results.job_latency:g} s. Rate limit off: "
        "sandbox limit off, product budget unbounded, job latency 0."
    )


def machine() -> dict[str, str]:
    return {
        "CPU": _cpu_model(),
        "Cores": str(os.cpu_count()),
        "RAM": _memory(),
        "Python": platform.python_version(),
        "OS": _os_name(),
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip('"')
                return f"{name} ({platform.system()} {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def results_markdown(results: Results, command: str) -> str:
    machine_lines = [f"- {key}: {value}" for key, value in machine().items()]
    parts = [
        "# Benchmark results",
        "",
        f"Made by `{command}`; see bench/README.md for what each column means.",
        "",
        *machine_lines,
        "",
        settings_line(results),
        "",
        table(results),
    ]
    if results.load is not None:
        parts += ["", load_line(results.load)]
    parts += ["", *target_lines(results)]
    return "\n".join(parts) + "\n"
