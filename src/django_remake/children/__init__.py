"""Child processes: work that must see the migration files as they are on disk.

The process that runs a remake has imported the old migration modules, and
Django caches modules and apps, so checking the new files, or building a
database from either history, happens in a fresh ``python -m
django_remake.children.<name>`` process that imports everything from disk as a
deploy would.

A child answers through a file whose path the parent passes in the
environment, never through stdout: a project's settings or migrations may
print (``print("using local settings")`` is common), and that output must not
corrupt the answer. Everything a child prints goes to the parent's captured
output and is only used to explain a child that died without answering.

A child that knows how far it is (how many migrations of a build it applied)
says so in a second file, ``DJANGO_REMAKE_PROGRESS``: one line ``done total``,
rewritten as it goes (:func:`tell_progress`). The parent reads it while it
waits and passes it on to its ``progress`` callback (:func:`run`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

#: Where the child writes its JSON answer.
ANSWER_VARIABLE = "DJANGO_REMAKE_ANSWER"
#: Where the child says how far it is (``done total``), when the parent asks.
PROGRESS_VARIABLE = "DJANGO_REMAKE_PROGRESS"
#: Seconds a child may run: building a large history on a new database is slow.
TIMEOUT = 3600
#: Seconds between two looks at a running child's progress.
POLL = 0.25

#: ``progress(done, total)``: how far the child is, when it says; ``None``
#: when it does not. Called at least every :data:`POLL` seconds while it runs,
#: so that a caller can show the elapsed time.
ChildProgress = Callable[[int | None, int | None], None]


class ChildError(Exception):
    """A child did not answer, or answered with an error.

    ``detail`` is the one line that says why; ``answer`` the rest of what the
    child said (empty if it died first).
    """

    def __init__(self, detail: str, answer: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.answer: dict[str, Any] = dict(answer or {})


def environment() -> dict[str, str]:
    """The environment that lets a child import this project's settings."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = os.environ.get(
        "DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE
    )
    paths = [str(Path.cwd())] + [p for p in sys.path if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.pop(ANSWER_VARIABLE, None)
    env.pop(PROGRESS_VARIABLE, None)
    return env


def run(
    name: str,
    *args: str,
    timeout: float = TIMEOUT,
    progress: ChildProgress | None = None,
) -> dict[str, Any]:
    """Run ``django_remake.children.<name>`` with ``args``; return its answer.

    With ``progress``, it is told how far the child is while it runs.
    Raise :class:`ChildError` when the child answers with ``{"error": ...}``
    or dies without answering.
    """
    with tempfile.TemporaryDirectory(prefix="django-remake-") as folder:
        answer_path = Path(folder) / "answer.json"
        env = environment()
        env[ANSWER_VARIABLE] = str(answer_path)
        if progress is None:
            try:
                result = subprocess.run(
                    [sys.executable, "-m", f"django_remake.children.{name}", *args],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired:
                raise ChildError(f"no answer within {timeout:.0f} seconds") from None
            returncode, stderr = result.returncode, result.stderr
        else:
            progress_path = Path(folder) / "progress"
            env[PROGRESS_VARIABLE] = str(progress_path)
            returncode, stderr = _watch(
                [sys.executable, "-m", f"django_remake.children.{name}", *args],
                env,
                Path(folder) / "output",
                progress_path,
                progress,
                timeout,
            )
        answer: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(answer_path.read_text(encoding="utf-8"))
            answer = loaded if isinstance(loaded, dict) else {}
    if answer and "error" not in answer and returncode == 0:
        return answer
    if answer.get("error"):
        raise ChildError(str(answer["error"]), answer)
    # No answer: the child died before it could give one (the settings do not
    # import, say); the last line it wrote to stderr says why.
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    raise ChildError(lines[-1] if lines else f"exit code {returncode}")


def _watch(
    argv: list[str],
    env: dict[str, str],
    output: Path,
    progress_path: Path,
    progress: ChildProgress,
    timeout: float,
) -> tuple[int, str]:
    """Run the child, telling ``progress`` how far it is every :data:`POLL`
    seconds; return its exit code and what it wrote to stderr.

    Its output goes to a file rather than a pipe, so that a child that prints
    a lot cannot block while nobody reads. However this ends (a timeout,
    Ctrl-C), the child does not outlive it.
    """
    deadline = time.monotonic() + timeout
    with open(output, "w+", encoding="utf-8", errors="replace") as out:
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
        try:
            while True:
                try:
                    returncode = process.wait(timeout=POLL)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if time.monotonic() > deadline:
                    raise ChildError(f"no answer within {timeout:.0f} seconds")
                progress(*_read_progress(progress_path))
            progress(*_read_progress(progress_path))  # the last word, however quick
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        out.seek(0)
        return returncode, out.read()


def _read_progress(path: Path) -> tuple[int | None, int | None]:
    try:
        done, total = path.read_text(encoding="utf-8").split()
        return int(done), int(total)
    except (OSError, ValueError):
        return None, None


def tell_progress(done: int, total: int) -> None:
    """Child side: say how far this child is, if the parent asked."""
    path = os.environ.get(PROGRESS_VARIABLE)
    if not path:
        return
    tmp = Path(path + ".tmp")
    tmp.write_text(f"{done} {total}", encoding="utf-8")
    os.replace(tmp, path)


def summary(exc: BaseException) -> str:
    """``Type: first line of the message``; database errors add SQL below it."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class Failed(Exception):
    """Raised inside a child: becomes ``{"error": message, **details}``."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


def serve(work: Callable[[list[str]], dict[str, Any]]) -> int:
    """Child side: set Django up, run ``work(argv)``, write its answer.

    Returns the exit code for ``sys.exit``. Output the project prints goes to
    stderr, where it cannot be mistaken for anything.
    """
    path = os.environ.get(ANSWER_VARIABLE)
    payload: dict[str, Any]
    try:
        with contextlib.redirect_stdout(sys.stderr):
            import django

            django.setup()
            payload = work(sys.argv[1:])
    except Failed as exc:
        payload = {**exc.details, "error": str(exc)}
    except Exception as exc:
        payload = {"error": summary(exc)}
    text = json.dumps(payload)
    if path:
        tmp = Path(path + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    else:  # run by hand, for debugging
        print(text)
    return 1 if "error" in payload else 0
