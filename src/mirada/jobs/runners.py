"""Which process holds a job, so that a job whose process died is noticed at once.

A runner is identified by its host, its pid and a start token (the process's start time
in clock ticks since boot, from ``/proc``): a pid the system gave to a newer process
does not pass for the old one. The host key joins the host name, the boot id and the pid
namespace, so two containers on one machine, or one machine after a reboot, never take
each other's pids for their own. Where ``/proc`` is missing the token is empty and only
the pid is checked.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROC = Path("/proc")
HOST_KEY_LENGTH = 255


@dataclass(frozen=True)
class Runner:
    """A process on a host: ``token`` tells it apart from a later process with its pid."""

    host: str
    pid: int
    token: str


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


@cache
def host_key() -> str:
    """This machine and pid namespace, as stored on the jobs its processes hold."""
    boot = _read(PROC / "sys/kernel/random/boot_id")[:8]
    try:
        namespace = os.readlink(PROC / "self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        namespace = ""
    return "/".join(part for part in (socket.gethostname(), boot, namespace) if part)[
        :HOST_KEY_LENGTH
    ]


def start_token(pid: int) -> str | None:
    """The start time of process ``pid``; None when no live process has it, "" if unknown."""
    if pid <= 0:  # kill(0) or kill(-1) would signal groups, not one process
        return None
    stat = _read(PROC / str(pid) / "stat")
    if not stat:  # no /proc, no such process, or one hidden from this user (hidepid)
        return "" if _pid_exists(pid) else None
    fields = stat.rsplit(")", 1)[-1].split()  # the name, in parentheses, may hold spaces
    if len(fields) < 20 or fields[0] in ("Z", "X"):  # a zombie has finished already
        return None
    return fields[19]  # field 22 of proc(5): starttime


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_runner() -> Runner:
    """This process."""
    pid = os.getpid()
    return Runner(host=host_key(), pid=pid, token=start_token(pid) or "")


def process_gone(pid: int, token: str) -> bool:
    """Whether the process ``pid`` of this host that started at ``token`` has ended."""
    current = start_token(pid)
    if current is None:
        return True
    return bool(current) and bool(token) and current != token  # "": cannot tell, alive
