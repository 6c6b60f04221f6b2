"""The real `mirada inference` service as a separate process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """One service process: started by ``start``, stopped by ``stop`` or ``kill``."""

    def __init__(
        self,
        *,
        model_path: Path,
        token: str = "",
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        environment = {
            **os.environ,
            "MIRADA_MODEL_PATH": str(model_path),
            "MIRADA_INFERENCE_TOKEN": token,
            "MIRADA_INFERENCE_THREADS": "1",
            **(env or {}),
        }
        command = [sys.executable, "-m", "mirada.inference.service"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), *args]
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - kept while it runs
        self.process = subprocess.Popen(
            command, env=environment, stdout=self._log, stderr=subprocess.STDOUT, text=True
        )

    def wait_ready(self) -> ServiceProcess:
        """Block until ``/readyz`` answers 200; fail with the process's output otherwise."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as reply:  # noqa: S310
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the service was not ready in time: {self.output()}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: the process ends at once, its connections cut."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def output(self) -> str:
        """What the process has printed so far."""
        self._log.seek(0)
        return self._log.read()
