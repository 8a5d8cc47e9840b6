"""Errors that stop a remake before it writes anything, or that undo it."""

from __future__ import annotations


class RemakeError(Exception):
    """A problem the user can fix; the message says what was found and what to do."""


class NotReady(RemakeError):
    """The project or a database is not in a state that can be remade safely."""


class PlanError(RemakeError):
    """The new history could not be built or does not prove equal to the old one."""


class ApplyError(RemakeError):
    """Writing the files failed; every file was restored."""


class VerifyError(RemakeError):
    """The written history did not pass verification; every file was restored."""


class Busy(RemakeError):
    """Another run holds the project's lock."""


class Stopped(RemakeError):
    """Ctrl-C or SIGTERM stopped a run; the message says what it left behind."""


class Interrupted(BaseException):
    """SIGTERM arrived; it unwinds a run like Ctrl-C's KeyboardInterrupt."""


class Recovered(RemakeError):
    """A run killed mid-write was rolled back; ``restored`` lists what came back."""

    def __init__(self, message: str, restored: list[str]) -> None:
        super().__init__(message)
        self.restored = restored


class NotCarryable(PlanError):
    """Code that a carried operation needs cannot be copied into a new migration."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
