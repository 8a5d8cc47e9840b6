"""Ctrl-C and SIGTERM: unwind a run, but never tear a rollback in half.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the program happens to
be. That is right while a run plans or writes (the rollback then puts every
file back), and wrong while the rollback itself runs: a second Ctrl-C there
would leave half the files moved. :func:`deferred` holds both signals for the
length of such a block and, where that makes sense, delivers them after it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from .errors import Interrupted

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Held:
    """The signals that arrived inside a :func:`deferred` block."""

    signals: list[int] = field(default_factory=list)
    #: raise the first held signal when the block ends (set it to False to drop them)
    deliver: bool = True


def _in_main_thread() -> bool:
    # Only the main thread may install signal handlers; elsewhere nothing can
    # be deferred, and signals are not delivered to that thread anyway.
    return threading.current_thread() is threading.main_thread()


def as_exception(signum: int) -> BaseException:
    """What a signal means to the code it interrupts."""
    if signum == signal.SIGINT:
        return KeyboardInterrupt()
    return Interrupted(f"signal {signum}")


@contextmanager
def deferred(deliver: bool = True) -> Iterator[Held]:
    """Hold SIGINT and SIGTERM until the block ends.

    Then, if ``held.deliver`` is still true and the block did not raise, the
    first held signal is raised as :func:`as_exception` says; otherwise the
    held signals are dropped (the run is ending anyway).
    """
    held = Held(deliver=deliver)
    if not _in_main_thread():
        yield held
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        held.signals.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in _SIGNALS}
    try:
        yield held
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
    if held.deliver and held.signals:
        raise as_exception(held.signals[0])


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Interrupted` (as Ctrl-C
    raises KeyboardInterrupt), so that a terminated run still cleans up."""
    if not _in_main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def reason(exc: BaseException) -> str:
    """How a message names the interruption or error that stopped a run."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, Interrupted):
        return f"terminated by {exc}"
    return f"{type(exc).__name__}: {exc}"
