"""The job page fragment under load: locust, headless, for a bounded time,
against the web app served by gunicorn."""

import csv
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.world import BIN, ROOT, BenchError

logger = logging.getLogger(__name__)


@dataclass
class LoadFigures:
    pollers: int
    seconds: int
    poll_interval: float
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    job_running_seconds: float = 0.0


def run_locust(
    *,
    host: str,
    job_id: int,
    session_cookie: str,
    pollers: int,
    seconds: int,
    poll_interval: float,
    workdir: Path,
    env: dict[str, str],
) -> LoadFigures:
    locust = BIN / "locust"
    if not locust.exists():
        raise BenchError(
            "locust is not installed in .venv: run `make bench`, which installs "
            "requirements/bench.txt, or pass --skip-load"
        )
    prefix = workdir / "locust"
    command = [
        str(locust), "-f", str(ROOT / "bench" / "locustfile.py"),
        "--headless", "--users", str(pollers), "--spawn-rate", str(pollers),
        "--run-time", f"{seconds}s", "--stop-timeout", "5",
        "--host", host, "--csv", str(prefix), "--only-summary",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    locust_env = {
        **env,
        "BENCH_JOB_ID": str(job_id),
        "BENCH_SESSION_COOKIE": session_cookie,
        "BENCH_POLL_SECONDS": str(poll_interval),
    }
    log = workdir / "locust.log"
    with log.open("w") as output:
        # Bounded: locust stops itself after --run-time; this is the backstop.
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=locust_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=seconds + 60,
            check=False,
        )
    if done.returncode not in (0, 1):  # 1: some requests failed, counted below
        raise BenchError(f"locust exited with {done.returncode}; see {log}")
    return _figures(prefix, pollers, seconds, poll_interval)


def _figures(prefix: Path, pollers: int, seconds: int, interval: float):
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise BenchError(f"locust wrote no statistics ({stats})")
    with stats.open() as rows:
        total = next(row for row in csv.DictReader(rows) if row["Name"] == "Aggregated")
    return LoadFigures(
        pollers=pollers,
        seconds=seconds,
        poll_interval=interval,
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        p50_ms=float(total["50%"]),
        p95_ms=float(total["95%"]),
        p99_ms=float(total["99%"]),
    )
