"""Long-running processes of a test's own: workers and the recovery watcher."""

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Process:
    """A long-running `manage.py` process of the test's own, its output in a
    file that the test prints when it fails."""

    def __init__(self, env: dict[str, str], log: Path, *command: str) -> None:
        self.log = log
        with log.open("a") as output:
            self.popen = subprocess.Popen(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
