"""``python -m mirada.inference.service``: the inference service on uvicorn.

uvloop and httptools, ``--workers`` processes. On SIGTERM (or SIGINT) ``/readyz`` turns
503 at once, uvicorn stops accepting connections, the requests in flight finish (for up
to ``MIRADA_DRAIN_TIMEOUT_S``), the queued batches run, and the process exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType

import uvicorn
from pydantic import ValidationError

from mirada.inference.service.options import OPTIONS, dest
from mirada.inference.service.protocol import GuardedHttpToolsProtocol
from mirada.inference.service.settings import ServiceSettings

APP = "mirada.inference.service.app:create_app"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mirada inference", description="Serve the model over HTTP, batching requests."
    )
    for option in OPTIONS:
        parser.add_argument(option.flag, type=option.kind, default=option.default, help=option.help)
    return parser.parse_args(argv)


def _drained(signum: int, frame: FrameType | None) -> None:
    """uvicorn raises the stopping signal again once it has drained: that is a clean end."""


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    for option in OPTIONS:
        value = getattr(args, dest(option))
        if option.env and value is not None:
            os.environ[option.env] = str(value)  # the workers read their settings from here
    try:
        settings = ServiceSettings()
    except ValidationError as error:
        reasons = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors())
        sys.exit(f"mirada inference: the configuration is refused: {reasons}")
    signal.signal(signal.SIGTERM, _drained)
    signal.signal(signal.SIGINT, _drained)
    uvicorn.run(
        APP,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http=GuardedHttpToolsProtocol,
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=settings.drain_timeout_s,
        limit_concurrency=settings.max_connections,
    )


if __name__ == "__main__":
    main()
