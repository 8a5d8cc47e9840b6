"""Runs that are stopped on purpose, or watched as a user sees them.

:func:`in_terminal` runs a command on a pseudo-terminal, as typed at a shell,
and :func:`screen` shows what its output leaves on the screen once the
lines it rewrote in place (``\r``) are rewritten.

``DJANGO_REMAKE_FAULT=<point>:<action>`` (``django_remake.fileops.fault_point``)
stops a real run at a named stage or just before its N-th file operation
(``op:N``); ``DJANGO_REMAKE_TRACE`` lists a run's file operations, so a test
knows how many instants there are. ``sigstop`` pauses a run with its lock
held, so that a test can start a second one beside it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from .harness import Project

FAULT = "DJANGO_REMAKE_FAULT"
TRACE = "DJANGO_REMAKE_TRACE"
WORK_DIR = ".django-remake"


def environment(project: Project, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(project.root),
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for name in (FAULT, TRACE):
        if name not in extra:
            env.pop(name, None)
    return env


def run(project: Project, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``manage.py *args`` with extra environment variables; any exit code."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project.root,
        env=environment(project, **extra),
        input="",
        capture_output=True,
        text=True,
        timeout=600,
    )


def operations(project: Project, trace: Path, *args: str) -> list[str]:
    """The file operations of an uninterrupted ``manage.py *args``, one per line."""
    trace.unlink(missing_ok=True)
    done = run(project, *args, **{TRACE: str(trace)})
    assert done.returncode == 0, done
    return trace.read_text().splitlines() if trace.exists() else []


def start_paused(project: Project, point: str, *args: str) -> subprocess.Popen[str]:
    """Start ``manage.py *args`` and return once it has stopped at ``point``."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=project.root,
        env=environment(project, **{FAULT: f"{point}:sigstop"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"the run ended before {point}: status {status}"
    return process


def resume(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    os.kill(process.pid, signal.SIGCONT)
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def single_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one-line ``CommandError`` of a failed run, without a traceback."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("CommandError: "), result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), (
        result.stderr
    )
    return result.stderr[len("CommandError: ") : -1]


def in_terminal(
    project: Project,
    *args: str,
    answer: str = "",
    prompt: str = "",
    columns: int = 200,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """``manage.py *args`` with a pseudo-terminal as stdin, stdout and stderr
    (``columns`` wide), typing ``answer`` once ``prompt`` is on the screen, as
    a user would. Its ``stdout`` is every character the terminal showed
    (stderr and the echoed answer included), with ``\r\n`` as ``\n``."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = environment(project)
    env.pop("COLUMNS", None)
    try:
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=project.root,
            env=env,
            stdin=follower,
            stdout=follower,
            stderr=follower,
        )
    finally:
        os.close(follower)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every copy of the terminal is closed
                break
            if not chunk:
                break
            received += chunk
            if answer and prompt.encode() in received:
                os.write(leader, answer.encode())
                answer = ""
        returncode = process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    text = received.decode(errors="replace").replace("\r\n", "\n")
    return subprocess.CompletedProcess(process.args, returncode, text, "")


def screen(text: str) -> str:
    """What ``text`` leaves on a terminal: each ``\r`` goes back to the start
    of the line and what follows overwrites it; the blanks that padded a
    rewritten line are dropped."""
    lines = []
    for raw in text.split("\n"):
        line = ""
        for part in raw.split("\r"):
            line = part + line[len(part) :]
        lines.append(line.rstrip() if "\r" in raw else line)
    return "\n".join(lines)
