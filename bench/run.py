"""Run the benchmark: `make bench`, or `.venv/bin/python -m bench.run --help`.

Everything runs on 127.0.0.1 from a temporary directory of its own, and every
process it starts is stopped at the end, on Ctrl-C too. bench/README.md says
what is measured and how to read the table.
"""

import argparse
import logging
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import django

from bench.world import (
    ROOT,
    BenchError,
    Ports,
    World,
    free_port,
    start_redis,
)

logger = logging.getLogger("bench")

ENTERPRISE_LIMIT = 700
BUDGET_PERCENT = 80
# Unmeasured: see bench/README.md for why this is the default.
DEFAULT_JOB_LATENCY = 2.0
UNBOUNDED_BUDGET = 100_000_000  # requests a minute: the budget never waits


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Tag Manager's benchmark."
    )
    parser.add_argument(
        "--sizes",
        default="1000,10000,50000",
        help="comma-separated ticket counts (default: %(default)s)",
    )
    parser.add_argument(
        "--job-latency",
        type=float,
        default=DEFAULT_JOB_LATENCY,
        help="seconds a Zendesk update_many job takes (default: %(default)s)",
    )
    parser.add_argument("--per-ticket-tickets", type=int, default=1000)
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--load-seconds", type=int, default=30)
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=2.0,
        help="seconds between one poller's requests, as the job page's htmx",
    )
    parser.add_argument("--skip-unlimited", action="store_true")
    parser.add_argument("--skip-per-ticket", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument(
        "--job-timeout",
        type=float,
        default=None,
        help="give a job up after this many seconds (default: from its floor)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a throwaway database instead of SQLite files (default: $DATABASE_URL)",
    )
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument(
        "--keep-dir", action="store_true", help="keep the temporary directory"
    )
    args = parser.parse_args(argv)
    try:
        sizes = {int(size) for size in args.sizes.split(",") if size.strip()}
    except ValueError:
        parser.error("--sizes takes whole numbers, e.g. 1000,5000")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs at least one count above 0")
    args.sizes = sorted(sizes)
    return args


def base_env(workdir: Path, ports: Ports, args: argparse.Namespace) -> dict:
    """What every process of the benchmark shares, this one included."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_DIR": str(workdir),
        "BENCH_WORKER_REPORT": str(workdir / "worker-report.jsonl"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": "INFO",
        "SANDBOX_ENABLED": "true",
        "REDIS_URL": f"redis://127.0.0.1:{ports.redis}/0",
        "ZENDESK_URL": f"http://127.0.0.1:{ports.sandbox}/sandbox",
        "ZENDESK_SUBDOMAIN": "",
        "ZENDESK_EMAIL": "bench@example.com",
        "ZENDESK_API_TOKEN": secrets.token_urlsafe(24),
        "ZENDESK_OAUTH_TOKEN": "",
        # Every job goes to the worker, however small.
        "TOOLS_INLINE_TICKET_LIMIT": "0",
        "TOOLS_BACKGROUND_TICKET_LIMIT": str(max(args.sizes)),
        "SANDBOX_MAX_QUEUED_JOBS": "30",
        **_no_fault_modes(),
        **limited_env(args.job_latency),
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'tagmanager.sqlite3'}"
        env["SANDBOX_DATABASE_URL"] = f"sqlite:///{workdir / 'sandbox.sqlite3'}"
    return env


def _no_fault_modes() -> dict[str, str]:
    # A developer's .env may switch fault modes on; the benchmark wants none.
    rates = ["THROTTLE", "SERVER_ERROR", "JOB_FAIL", "JOB_STUCK", "JOB_VANISH"]
    rates += ["TICKET_FAIL"]
    modes = {f"SANDBOX_FAULT_{name}_RATE": "0" for name in rates}
    return modes | {
        "SANDBOX_FAULT_DELAY_SECONDS": "0",
        "SANDBOX_FAULT_TOO_MANY_JOBS": "false",
    }


def limited_env(job_latency: float) -> dict[str, str]:
    """An Enterprise account: 700 requests a minute, the product at 80%."""
    return {
        "SANDBOX_RATE_LIMIT_PER_MINUTE": str(ENTERPRISE_LIMIT),
        "SANDBOX_JOB_LATENCY_SECONDS": str(job_latency),
        "ZENDESK_RATE_LIMIT_PER_MINUTE": str(ENTERPRISE_LIMIT),
        "ZENDESK_RATE_BUDGET_PERCENT": str(BUDGET_PERCENT),
    }


def unlimited_env() -> dict[str, str]:
    """No limit anywhere (0 switches the sandbox's off) and instant jobs."""
    return {
        "SANDBOX_RATE_LIMIT_PER_MINUTE": "0",
        "SANDBOX_JOB_LATENCY_SECONDS": "0",
        "ZENDESK_RATE_LIMIT_PER_MINUTE": str(UNBOUNDED_BUDGET),
        "ZENDESK_RATE_BUDGET_PERCENT": "100",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr
    )
    workdir = Path(tempfile.mkdtemp(prefix="tagmanager-bench-"))
    ports = Ports(redis=free_port(), sandbox=free_port(), web=free_port())
    env = base_env(workdir, ports, args)
    world = World(workdir, env)
    # SIGINT too: a shell starting it in the background ignores Ctrl-C's
    # signal for it, and the processes must be stopped all the same.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    logger.info("Benchmark directory: %s", workdir)

    failed = True
    try:
        results = run_everything(world, args, ports)
        failed = False
    except BenchError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Benchmark interrupted; stopping its processes.", file=sys.stderr)
        return 130
    finally:
        world.stop_all()
        _clean_up(workdir, keep=args.keep_dir or failed)

    _print_and_write(results, args, argv)
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _clean_up(workdir: Path, *, keep: bool) -> None:
    if keep:
        print(f"Logs and databases kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def run_everything(world: World, args: argparse.Namespace, ports: Ports):
    start_redis(world, ports.redis)
    world.manage("migrate", "--noinput", "--verbosity", "0")
    world.manage("migrate", "--database", "sandbox", "--noinput", "--verbosity", "0")
    # This process works with the same databases through Django, too.
    os.environ.update(world.env)
    django.setup()

    from bench.scenarios import Bench

    bench = Bench(world, args, ports)
    return bench.run(limited_env(args.job_latency), unlimited_env())


def _print_and_write(results, args, argv) -> None:
    from bench.report import (
        load_line,
        results_markdown,
        settings_line,
        table,
        target_lines,
    )

    print()
    print(settings_line(results))
    print()
    print(table(results))
    if results.load is not None:
        print()
        print(load_line(results.load))
    print()
    print("\n".join(target_lines(results)))
    if args.write_results:
        words = argv if argv is not None else sys.argv[1:]
        command = "python -m bench.run " + shlex.join(words)
        path = ROOT / "bench" / "RESULTS.md"
        path.write_text(results_markdown(results, command.strip()))
        print(f"\nWritten to {path}")


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    logger.info("Benchmark took %.0f s", time.monotonic() - started)
    sys.exit(code)
