"""The real `mirada inference` service as a separate process on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.server import free_port, mirada_command

STARTUP_TIMEOUT_S = 60.0


class ServiceProcess:
    """``mirada inference`` with the given options and ``MIRADA_*`` variables (no others),
    started at once; ``wait_ready`` blocks until it serves."""

    def __init__(self, *, model_path: Path, args: tuple[str, ...] = (), **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MIRADA_")}
        environment.update(MIRADA_MODEL_PATH=str(model_path), PYTHONUNBUFFERED="1", **env)
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - kept while it runs
        self.process = subprocess.Popen(
            mirada_command("inference", "--port", str(self.port), *args),
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self) -> ServiceProcess:
        """Block until ``/readyz`` answers 200; fail with the process's output otherwise."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as reply:  # noqa: S310
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.kill()
        raise AssertionError(f"the service did not come up:\n{self.output()}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit code (killed if it does not end in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the process ends at once, its connections cut."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def output(self) -> str:
        """What the process has printed so far."""
        self._log.seek(0)
        return self._log.read()
