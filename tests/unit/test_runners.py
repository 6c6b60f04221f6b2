"""Process identity for jobs: real processes, started and ended here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from mirada.jobs.runners import current_runner, host_key, process_gone, start_token

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def test_this_process_is_alive_under_its_own_token() -> None:
    me = current_runner()
    assert me.pid == os.getpid()
    assert me.token and me.token == start_token(os.getpid())
    assert me.host == host_key()
    assert me.host.startswith(socket.gethostname())
    assert not process_gone(me.pid, me.token)
    assert process_gone(me.pid, str(int(me.token) + 1))  # another process with this pid


def test_an_odd_process_name_is_read_and_its_end_noticed(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep is not None
    odd = tmp_path / "a) b (c"  # the name in /proc/PID/stat is in parentheses
    shutil.copy(sleep, odd)
    child = subprocess.Popen([str(odd), "30"])
    try:
        token = start_token(child.pid)
        assert token is not None and token.isdigit()
        assert not process_gone(child.pid, token)
        child.kill()
        child.wait()
        assert start_token(child.pid) is None
        assert process_gone(child.pid, token)
    finally:
        child.kill()
        child.wait()


def test_a_process_that_ended_but_was_not_waited_for_counts_as_gone() -> None:
    child = subprocess.Popen(["true"])
    token = start_token(child.pid)
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended: a zombie now
        assert process_gone(child.pid, token or "")
    finally:
        child.wait()
