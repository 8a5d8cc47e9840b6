"""Runs that are stopped on purpose: fault injection and paused processes.

``DJANGO_REMAKE_FAULT=<point>:<action>`` (``django_remake.fileops.fault_point``)
stops a real run at a named stage or just before its N-th file operation
(``op:N``); ``DJANGO_REMAKE_TRACE`` lists a run's file operations, so a test
knows how many instants there are. ``sigstop`` pauses a run with its lock
held, so that a test can start a second one beside it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

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
    project: Project, answer: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py *args`` (by default ``remakemigrations``) with a
    pseudo-terminal as stdin, typing ``answer``."""
    if shutil.which("script") is None:
        pytest.skip("the `script` utility (util-linux) is not installed")
    command = shlex.join(
        [sys.executable, "manage.py", *(args or ("remakemigrations",)), "--no-color"]
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(project.root),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        cwd=project.root,
        env=env,
        input=answer,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = result.stdout.replace("\r\n", "\n")
    # The terminal echoes the answer as soon as it is typed: before any output.
    result.stdout = out[len(answer) :] if out.startswith(answer) else out
    return result
