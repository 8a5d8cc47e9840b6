"""Progress events shown the way a terminal user and a CI log each want them.

On a terminal, a step that takes time is one line that updates in place
(``\\r``): the step, the count when one is known (``12/69 migrations``) and
the elapsed time, ended with ``done`` and the time it took. When the output
is not a terminal (a pipe, a CI log), each long step is one plain line, printed
when it starts, and nothing is rewritten. Warnings go to stderr. At
verbosity 0 only warnings are shown.

Both commands render :class:`~django_remake.progress.Progress` events through
a :class:`ProgressPrinter`; nothing here decides anything about a run.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Protocol

from .progress import DONE, INFO, START, UPDATE, WARNING, Progress

#: the long steps: shown as plain lines when the output is not a terminal,
#: and left on the screen when done on one; the others are only seen while
#: they run, on a terminal
LONG_STEPS = frozenset({"build", "verify"})


class Output(Protocol):
    """What a printer needs of Django's ``OutputWrapper``."""

    def write(
        self,
        msg: str = "",
        style_func: Callable[[str], str] | None = None,
        ending: str | None = None,
    ) -> None: ...

    def flush(self) -> None: ...


class Style(Protocol):
    def SUCCESS(self, text: str) -> str: ...  # noqa: N802
    def WARNING(self, text: str) -> str: ...  # noqa: N802
    def MIGRATE_HEADING(self, text: str) -> str: ...  # noqa: N802


def elapsed(seconds: float) -> str:
    """``0.4s``, ``12.3s``, ``2m 05s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"


class ProgressPrinter:
    """A progress callback that writes to a command's stdout and stderr.

    ``live`` is whether stdout is a terminal (``self.stdout.isatty()``).
    Call :meth:`end_line` before writing anything else, so that a line being
    updated in place is finished first.
    """

    def __init__(
        self,
        stdout: Output,
        stderr: Output,
        style: Style,
        verbosity: int,
        live: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stdout, self.stderr, self.style = stdout, stderr, style
        self.verbosity, self.live, self.clock = verbosity, live, clock
        self._step: Progress | None = None  # the step shown in place
        self._count = ""  # its last count, "12/69 migrations, "
        self._started = 0.0
        self._width = 0  # characters of the line in place

    def __call__(self, event: Progress) -> None:
        if event.state == WARNING:
            self.end_line()
            self.stderr.write(self.style.WARNING(event.message))
            return
        if self.verbosity < 1:
            return
        if event.state == INFO:
            self.end_line()
            self.stdout.write(event.message)
        elif not self.live:
            self._plain(event)
        elif event.state == START:
            self.end_line()
            self._step, self._started, self._count = event, self.clock(), ""
            self._draw(event)
        elif event.state == UPDATE and self._is_current(event):
            self._draw(event)
        elif event.state == DONE and self._is_current(event):
            if event.step in LONG_STEPS or event.step == "post-command":
                took = f"{self._count}done ({elapsed(self.clock() - self._started)})"
                self._draw(event, took, self.style.SUCCESS("done"))
                self.stdout.write("")
            else:  # a short step leaves no line behind
                self.stdout.write("\r" + " " * self._width + "\r", ending="")
                self.stdout.flush()
            self._step, self._width = None, 0

    def end_line(self) -> None:
        """Finish a line left in place (a step that failed or was stopped)."""
        if self._step is not None:
            self.stdout.write("")
            self._step, self._width = None, 0

    def _is_current(self, event: Progress) -> bool:
        current = self._step
        return (
            current is not None
            and current.step == event.step
            and current.message == event.message
        )

    def _plain(self, event: Progress) -> None:
        if event.state != START:
            return
        if event.step == "post-command":
            self.stdout.write(self.style.MIGRATE_HEADING(event.message))
        elif event.step in LONG_STEPS:
            self.stdout.write(f"{event.message}...")

    def _draw(self, event: Progress, tail: str = "", done: str = "") -> None:
        """Rewrite the line in place; ``done`` is the styled word ``done``."""
        if not tail:
            if event.done is not None and event.total:
                self._count = f"{event.done}/{event.total} {event.unit}".rstrip()
                self._count += ", "
            tail = f"{self._count}{elapsed(self.clock() - self._started)}"
        # A line longer than the terminal would wrap, and \r would then only
        # go back to the start of its last row.
        room = shutil.get_terminal_size().columns - 1 - len(tail) - 4
        message = event.message
        if len(message) > room > 10:
            message = message[: room - 1] + "…"
        width = len(message) + 4 + len(tail)
        padding = " " * max(self._width - width, 0)
        if done:
            tail = tail.replace("done", done, 1)
        self.stdout.write(f"\r{message}... {tail}{padding}", ending="")
        self.stdout.flush()
        self._width = width
