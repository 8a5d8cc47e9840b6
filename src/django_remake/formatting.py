"""Format new migration files the way the project's own tools would.

``makemigrations`` runs Django's ``run_formatters`` on every file it writes:
black, when a ``black`` executable is on ``PATH``, with ``--fast``. A remake
calls the same function on its new files. Many projects format with ruff
instead, which Django does not run: when the folder a new file goes to is
covered by a ruff configuration (``ruff.toml``, ``.ruff.toml``, or a
``pyproject.toml`` with a ``[tool.ruff]`` table, in that folder or above) and
a ``ruff`` executable is on ``PATH`` (and no ``[tool.black]`` table says
the project formats with black), ``ruff format`` runs on the file last,
told the file's final path so that it reads the settings and exclusions that
apply there. A project's own ``black --check`` or ``ruff format --check``
then finds nothing to change.

The files are formatted where :mod:`django_remake.apply` stages them, before
any of them is put in place.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from django.core.management.utils import run_formatters

RUFF_FILES = ("ruff.toml", ".ruff.toml")


def _configured_above(destination: Path) -> tuple[bool, bool]:
    """(ruff, black): does a configuration file at or above the folder of
    ``destination`` configure each?"""
    ruff = black = False
    folder = destination.parent.resolve()
    for candidate in (folder, *folder.parents):
        if any((candidate / name).is_file() for name in RUFF_FILES):
            ruff = True
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = pyproject.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            ruff = ruff or "[tool.ruff" in text
            black = black or "[tool.black" in text
    return ruff, black


def ruff_formats(destination: Path) -> bool:
    """Does the project format ``destination`` with ruff: a ruff
    configuration covers it, and no ``[tool.black]`` table says that black
    is the project's formatter (ruff is then taken for a linter only)?"""
    ruff, black = _configured_above(destination)
    return ruff and not black


def format_staged(files: Sequence[tuple[Path, Path]]) -> None:
    """Format each staged file in place, for the path it will be moved to.

    ``files`` holds ``(staged path, final path)`` pairs. A formatter that
    fails leaves the file as it was, as Django's ``run_formatters`` does.
    """
    if not files:
        return
    run_formatters([str(staged) for staged, _final in files])
    ruff = shutil.which("ruff")
    if ruff is None:
        return
    for staged, final in files:
        if not ruff_formats(final):
            continue
        try:
            done = subprocess.run(
                [ruff, "format", "--quiet", "--stdin-filename", str(final), "-"],
                input=staged.read_bytes(),
                capture_output=True,
                cwd=final.parent,
            )
        except OSError:
            continue
        if done.returncode == 0 and done.stdout:
            staged.write_bytes(done.stdout)
