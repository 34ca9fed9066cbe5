"""The benchmark's world: Redis, the sandbox, a worker and the web app, all
on 127.0.0.1, started from one temporary directory and stopped together."""

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis
import requests
from rq import Worker

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_WAIT_SECONDS = 15
START_WAIT_SECONDS = 60


@dataclass(frozen=True)
class Ports:
    redis: int
    sandbox: int
    web: int


class BenchError(Exception):
    """Something the benchmark needs failed; the message says what."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """One process of the world, its output in a log file of its own."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("a") as output:
            # A session of its own: Ctrl-C reaches only the benchmark, which
            # then stops its services in order.
            self.popen = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise BenchError(
                f"{self.name} exited with code {self.popen.returncode}; "
                f"see {self.log}:\n{tail(self.log)}"
            )

    def stop(self) -> None:
        # RQ's work-horse leaves the worker's process group, so the
        # descendants are noted first, to be ended by their ids if need be.
        descendants = _descendants(self.popen.pid)
        if self.popen.poll() is None:
            self._signal_and_wait()
        for pid, command in descendants:
            _kill_if_still(pid, command)

    def _signal_and_wait(self) -> None:
        # The product's worker hands its running job back on SIGTERM.
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop; killing it", self.name)
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=STOP_WAIT_SECONDS)


def _descendants(pid: int) -> list[tuple[int, bytes]]:
    """(pid, command line) of every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))

    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append((child, _command_line(child)))
        todo += children.get(child, [])
    return found


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _kill_if_still(pid: int, command: bytes) -> None:
    """End a process left behind, unless its id now belongs to another."""
    if command and _command_line(pid) == command:
        logger.warning("Ending process %d left behind", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class World:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.services: dict[str, Service] = {}

    def start(
        self,
        name: str,
        command: list[str],
        extra_env: dict | None = None,
    ) -> Service:
        self.stop(name)
        log = self.workdir / f"{name}.log"
        env = {**self.env, **(extra_env or {})}
        service = Service(name, command, env, log)
        self.services[name] = service
        return service

    def stop(self, name: str) -> None:
        service = self.services.pop(name, None)
        if service is not None:
            service.stop()

    def stop_all(self) -> None:
        # The worker first: it may still be talking to the sandbox and Redis.
        for name in ["worker", "web", "sandbox", *list(self.services)]:
            try:
                self.stop(name)
            except Exception:
                logger.exception("Could not stop %s", name)

    def manage(self, *args: str, timeout: float = 900) -> str:
        """Run a `manage.py` command to its end; its output, or a clear error."""
        command = [sys.executable, "manage.py", *args]
        try:
            done = subprocess.run(
                command,
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise BenchError(
                f"manage.py {' '.join(args)} took over {timeout}s"
            ) from error
        if done.returncode != 0:
            raise BenchError(
                f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
            )
        return done.stdout


def start_redis(world: World, port: int) -> Service:
    executable = shutil.which("redis-server")
    if executable is None:
        raise BenchError("redis-server is not installed (make test installs it)")
    redis_dir = world.workdir / "redis"
    redis_dir.mkdir(exist_ok=True)
    command = [
        executable, "--bind", "127.0.0.1", "--port", str(port),
        "--save", "", "--appendonly", "no", "--dir", str(redis_dir),
    ]  # fmt: skip
    service = world.start("redis", command)
    wait_for_redis(service, f"redis://127.0.0.1:{port}/0")
    return service


def wait_for_redis(service: Service, url: str) -> None:
    connection = redis.Redis.from_url(url, socket_connect_timeout=1)
    deadline = time.monotonic() + START_WAIT_SECONDS
    while time.monotonic() < deadline:
        service.check_alive()
        try:
            connection.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise BenchError(f"Redis did not answer at {url} within {START_WAIT_SECONDS}s")


def start_gunicorn(
    world: World, name: str, port: int, *, workers: int, threads: int, env: dict
) -> Service:
    """The product's WSGI app under gunicorn, as the Procfile runs it."""
    command = [
        str(BIN / "gunicorn"), "tagmanager_site.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread",
        "--workers", str(workers), "--threads", str(threads),
        "--timeout", "300",
    ]  # fmt: skip
    service = world.start(name, command, env)
    wait_for_http(service, f"http://127.0.0.1:{port}/login/")
    return service


def wait_for_http(service: Service, url: str) -> None:
    # The login page, not the API: a sandbox API call would be logged and
    # counted against the rate limit.
    deadline = time.monotonic() + START_WAIT_SECONDS
    while time.monotonic() < deadline:
        service.check_alive()
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise BenchError(f"{service.name} did not answer at {url}; see {service.log}")


def start_worker(world: World, redis_url: str, env: dict) -> Service:
    """A real `manage.py rqworker`, waited for until it has registered."""
    command = [sys.executable, "manage.py", "rqworker", "default"]
    service = world.start("worker", command, env)
    connection = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + START_WAIT_SECONDS
    while time.monotonic() < deadline:
        service.check_alive()
        if Worker.all(connection=connection):
            return service
        time.sleep(0.2)
    raise BenchError(f"The worker did not register in Redis; see {service.log}")
