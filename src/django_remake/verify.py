"""Verify: after the write, ask a fresh Python process what Django now sees.

This process has imported the old migration modules, so the check runs in a
child (:mod:`django_remake.children.verify`) that loads the files from disk as
a deploy would: per database alias, the migrate plan must be empty, and the
autodetector must find no changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import children
from .errors import VerifyError


@dataclass
class Verification:
    plans: dict[str, list[str]] = field(default_factory=dict)
    changes: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""

    def problems(self) -> list[str]:
        lines = []
        if self.error:
            lines.append(self.error)
        for alias, plan in self.plans.items():
            if plan:
                lines.append(f"database '{alias}' would still apply: {', '.join(plan)}")
        for app_label, operations in self.changes.items():
            lines.append(
                f"makemigrations would still write for '{app_label}': "
                + "; ".join(operations)
            )
        return lines


def verify(
    aliases: Sequence[str], progress: children.ChildProgress | None = None
) -> Verification:
    """Run the checks in a child process and return what it found;
    ``progress`` is called while it runs."""
    try:
        answer = children.run("verify", *aliases, progress=progress)
    except children.ChildError as exc:
        return Verification(
            error=f"the new history does not load in a fresh process: {exc.detail}"
        )
    return Verification(plans=answer["plans"], changes=answer["changes"])


def require_clean(verification: Verification) -> None:
    problems = verification.problems()
    if problems:
        raise VerifyError("Verification failed:\n  " + "\n  ".join(problems))
