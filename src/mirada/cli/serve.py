"""``mirada serve``: gunicorn processes, each with a server that buffers requests on a deadline."""

from __future__ import annotations

import os
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from pydantic import ValidationError

from mirada.config import Settings


class _Gunicorn(BaseApplication):
    """Gunicorn configured from arguments, serving the app factory's app."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from mirada.web import create_app

        return create_app()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--max-requests",
    default=2000,
    show_default=True,
    type=click.IntRange(0),
    help="Replace a worker after this many requests (plus up to 10 % jitter); 0: never.",
)
def serve(host: str, port: int, workers: int, threads: int, max_requests: int) -> None:
    """Serve Mirada on HOST:PORT."""
    address = f"http://{host}:{port}"
    click.echo(f"Mirada is listening on {address}")
    configured = os.environ.get("MIRADA_BASE_URL") or os.environ.get("MIRADA_TRUSTED_HOSTS")
    if not configured and os.environ.get("MIRADA_ENV", "development") != "production":
        # Mailed links point at the address served (a wildcard host: this machine's loopback);
        # production must say its public address itself, and refuses to start otherwise.
        local = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"  # noqa: S104
        os.environ["MIRADA_BASE_URL"] = f"http://{local}:{port}"
    # One model per worker: together their onnxruntime threads fill the cores, no more.
    cores = len(os.sched_getaffinity(0))
    os.environ.setdefault("MIRADA_INFERENCE_THREADS", str(max(1, cores // workers)))
    try:
        Settings()  # refused here, once, rather than by every worker gunicorn keeps restarting
    except ValidationError as exc:
        reasons = "; ".join(str(error["msg"]) for error in exc.errors())
        raise click.ClickException(f"the configuration is refused: {reasons}") from exc
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "mirada.web.server.BufferingWorker",
            "accesslog": "-",
            "max_requests": max_requests,
            "max_requests_jitter": max_requests // 10,
            "timeout": 120,
            "graceful_timeout": 10,
            "keepalive": 5,
            # One control socket per home folder: a second `mirada serve` would take it over
            # and remove it on exit. Nothing uses it.
            "control_socket_disable": True,
        }
    ).run()
