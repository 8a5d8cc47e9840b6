"""Progress of a run, as events for a callback: the library never prints.

Every stage of a remake or a clean-up is a :class:`Progress` event with a
``step`` name. A long step (building a throwaway database, verifying in a
child process) is a ``"start"`` event, ``"update"`` events while it runs
(with a count when one is known: migrations applied of the total), and a
``"done"`` event; the command turns them into a line that updates in place on
a terminal, or one plain line per step (:mod:`django_remake.console`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: states of a :class:`Progress` event
START, UPDATE, DONE, INFO, WARNING = "start", "update", "done", "info", "warning"


@dataclass(frozen=True)
class Progress:
    """One thing that happened; ``step`` names the stage of the pipeline.

    ``state`` is ``"start"``, ``"update"`` or ``"done"`` for a step that
    takes time (``done`` of ``total`` ``unit`` when a count is known; an
    update may carry no count and only say the step is still running),
    ``"info"`` for a line of output (a post command's), ``"warning"`` for
    something the user should read.
    """

    step: str
    state: str
    message: str
    done: int | None = None
    total: int | None = None
    unit: str = ""


ProgressCallback = Callable[[Progress], None]
#: ``count(done, total)`` inside a step; both ``None`` when unknown
Count = Callable[[int | None, int | None], None]


def ignore(event: Progress) -> None:
    pass


@contextlib.contextmanager
def step(
    progress: ProgressCallback, name: str, message: str, unit: str = ""
) -> Iterator[Count]:
    """Report a step that takes time: ``start``, then the updates the block
    sends through the callable it gets, then ``done`` if the block ends well.
    A step that fails sends no ``done``: the error says what happened."""
    progress(Progress(name, START, message))

    def count(done: int | None, total: int | None) -> None:
        progress(Progress(name, UPDATE, message, done, total, unit))

    yield count
    progress(Progress(name, DONE, message))
