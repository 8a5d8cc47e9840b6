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
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

#: Where the child writes its JSON answer.
ANSWER_VARIABLE = "DJANGO_REMAKE_ANSWER"
#: Seconds a child may run: building a large history on a new database is slow.
TIMEOUT = 3600


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
    return env


def run(name: str, *args: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """Run ``django_remake.children.<name>`` with ``args``; return its answer.

    Raise :class:`ChildError` when the child answers with ``{"error": ...}``
    or dies without answering.
    """
    with tempfile.TemporaryDirectory(prefix="django-remake-") as folder:
        answer_path = Path(folder) / "answer.json"
        env = environment()
        env[ANSWER_VARIABLE] = str(answer_path)
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
        answer: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(answer_path.read_text(encoding="utf-8"))
            answer = loaded if isinstance(loaded, dict) else {}
    if answer and "error" not in answer and result.returncode == 0:
        return answer
    if answer.get("error"):
        raise ChildError(str(answer["error"]), answer)
    # No answer: the child died before it could give one (the settings do not
    # import, say); the last line it wrote to stderr says why.
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    raise ChildError(lines[-1] if lines else f"exit code {result.returncode}")


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
