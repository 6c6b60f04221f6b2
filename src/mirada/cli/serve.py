"""``mirada serve``: run the web app under gunicorn."""

from __future__ import annotations

from typing import Any

import click
from gunicorn.app.base import BaseApplication

from mirada.config import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
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


def forwarded_allow_ips(proxy_count: int) -> str:
    """Whom gunicorn believes about X-Forwarded-Proto: nobody unless proxies are configured
    (otherwise a local client could claim https and get Secure cookies and HSTS over http)."""
    return "127.0.0.1,::1" if proxy_count else ""


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve Mirada on HOST:PORT."""
    click.echo(f"Mirada is listening on http://{host}:{port}")
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 120,
            "graceful_timeout": 10,
            "forwarded_allow_ips": forwarded_allow_ips(Settings().proxy_count),
        }
    ).run()
