"""``mirada inference``: the inference service, in a clean interpreter.

The ``mirada`` command group loads Flask; the serving process must not. So this command
replaces its own process (``os.execv``, same process id) with
``python -m mirada.inference.service`` and the same options.
"""

from __future__ import annotations

import os
import sys

import click

from mirada.inference.service.options import OPTIONS, command_line, dest


def _with_options(command: click.Command) -> click.Command:
    for option in OPTIONS:
        click.option(
            option.flag,
            dest(option),
            type=option.kind,
            default=option.default,
            show_default=option.default is not None,
            help=option.help + (f" [env: {option.env}]" if option.env else ""),
        )(command)
    return command


@_with_options
@click.command(context_settings={"show_default": True})
def inference(**values: object) -> None:
    """Serve the model over HTTP with dynamic batching (Starlette on uvicorn)."""
    argv = [sys.executable, "-m", "mirada.inference.service", *command_line(values)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)  # noqa: S606 (our own interpreter and arguments)
