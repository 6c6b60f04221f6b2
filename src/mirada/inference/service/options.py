"""The command-line options of the service, shared by ``python -m mirada.inference.service``
and ``mirada inference`` (which execs the former in a clean interpreter).

An option given on the command line overrides its ``MIRADA_*`` environment variable.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """One ``--flag``: its type, its default (None: the setting's) and its variable."""

    flag: str
    kind: type
    help: str
    default: object = None
    env: str = ""


OPTIONS = (
    Option("--host", str, "Address to listen on.", "127.0.0.1"),
    Option("--port", int, "Port to listen on.", 8100),
    Option("--workers", int, "Serving processes, each with its own model.", 1),
    Option(
        "--max-batch-size",
        int,
        "Images run through the model at once.",
        env="MIRADA_MAX_BATCH_SIZE",
    ),
    Option("--max-wait-ms", float, "How long a batch waits to fill up.", env="MIRADA_MAX_WAIT_MS"),
    Option("--max-queue", int, "Images waiting for the model before 503.", env="MIRADA_MAX_QUEUE"),
)


def dest(option: Option) -> str:
    """The option's keyword name: ``--max-queue`` is ``max_queue``."""
    return option.flag.removeprefix("--").replace("-", "_")


def command_line(values: dict[str, object]) -> list[str]:
    """The arguments that give ``values`` (by keyword name) back; None values left out."""
    argv: list[str] = []
    for option in OPTIONS:
        value = values.get(dest(option))
        if value is not None:
            argv += [option.flag, str(value)]
    return argv
