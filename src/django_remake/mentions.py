"""Code outside the migration folders that names an old migration.

Tests that migrate to ``("shop", "0042_add_price")`` or run
``call_command("migrate", "shop", "0042")``, fixtures and scripts keep the old
names after a remake; once the clean-up has removed ``replaces`` (and the old
files), those names no longer exist. Django cannot find them for us (they are
plain strings), so the project's own folders are searched as text: every file
of a source, fixture or configuration kind under the first-party folders
(:func:`django_remake.project.first_party_roots`), except migration folders,
virtualenvs, ``node_modules`` and hidden folders (``.git``, ``.venv``, ...).

A whole name (``0042_add_price``) is reported wherever it stands as a word; a
bare number (``"0042"``, which ``migrate`` accepts as a prefix) only as a
quoted string on a line that also names the app in quotes, and only when no
migration of the app that remains starts with it. When a line names apps in
quotes, only migrations of those apps are reported on it, so that
``("auth", "0001_initial")`` is not taken for ``shop.0001_initial``.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps

Key = tuple[str, str]

#: the kinds of file searched: code, fixtures, configuration
SUFFIXES = frozenset(
    {".py", ".pyi", ".json", ".yaml", ".yml", ".xml", ".toml", ".cfg", ".ini", ".sh"}
)
#: folders never searched (besides hidden ones and virtualenvs)
SKIPPED = frozenset({"migrations", "node_modules", "__pycache__", "site-packages"})
#: larger files are data, not code
MAX_BYTES = 2_000_000

_QUOTED_WORD = re.compile(r"""["'](\w+)["']""")
_NUMBER = re.compile(r"^(\d+)_")


@dataclass(frozen=True)
class Mention:
    """Line ``line`` of ``path`` names these old migrations."""

    path: Path
    line: int
    migrations: tuple[Key, ...]
    text: str  # the line, stripped

    def where(self, root: Path) -> str:
        """``path:line``, the path relative to ``root`` when it is inside."""
        path = self.path.relative_to(root) if root in self.path.parents else self.path
        return f"{path}:{self.line}"

    def names(self) -> str:
        return ", ".join(f"{app}.{name}" for app, name in self.migrations)


def find(
    old: Iterable[Key],
    remaining: Mapping[str, Iterable[str]],
    roots: Iterable[Path],
    skip: Iterable[Path] = (),
) -> list[Mention]:
    """Lines under ``roots`` that name a migration of ``old``.

    ``remaining`` holds, per app, the migration names that still exist (a
    bare number that starts one of them is not reported); ``skip`` more
    folders not to search (migration folders with another name).
    """
    by_name: dict[str, set[str]] = {}
    by_number: dict[str, set[str]] = {}
    for label, name in old:
        by_name.setdefault(name, set()).add(label)
        number = _NUMBER.match(name)
        if number and not any(
            n.startswith(number.group(1)) for n in remaining.get(label, ())
        ):
            by_number.setdefault(number.group(1), set()).add(label)
    if not by_name:
        return []
    digits_first = all(name[:1].isdigit() for name in by_name)
    # Only whole words count; a digit within a word is skipped in _search
    # (a look-behind in the pattern would make it several times slower).
    token = re.compile(r"[0-9]\w*" if digits_first else r"\w+")
    labels = {config.label for config in apps.get_app_configs()}
    found: list[Mention] = []
    for path in _files(roots, skip):
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            text = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
        found.extend(_search(path, text, token, by_name, by_number, labels))
    return found


def _files(roots: Iterable[Path], skip: Iterable[Path]) -> list[Path]:
    skipped = {str(path.resolve()) for path in skip}
    seen: set[str] = set()
    files: list[Path] = []
    for root in roots:
        for folder, dirs, names in os.walk(root):
            if folder in seen:
                dirs[:] = []
                continue
            seen.add(folder)
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".")
                and d not in SKIPPED
                and os.path.join(folder, d) not in skipped
                and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
            )
            files.extend(
                Path(folder, name)
                for name in sorted(names)
                if os.path.splitext(name)[1] in SUFFIXES
            )
    return files


def _search(
    path: Path,
    text: str,
    token: re.Pattern[str],
    by_name: Mapping[str, set[str]],
    by_number: Mapping[str, set[str]],
    labels: set[str],
) -> list[Mention]:
    hits: dict[int, set[Key]] = {}
    starts: list[int] | None = None
    for match in token.finditer(text):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue
        word = match.group()
        candidates = by_name.get(word)
        if candidates is None:
            candidates = by_number.get(word)
            if candidates is None or not _quoted(text, match.start(), match.end()):
                continue
            bare = True
        else:
            bare = False
        if starts is None:
            starts = [0] + [m.end() for m in re.finditer("\n", text)]
        index = bisect_right(starts, match.start()) - 1
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(text)
        named = set(_QUOTED_WORD.findall(text[starts[index] : end])) & labels
        chosen = candidates & named if (named or bare) else candidates
        if not chosen:
            continue
        hits.setdefault(index, set()).update(
            (label, _full(word, label, by_name)) for label in chosen
        )
    if starts is None:
        return []
    lines = text.splitlines()
    return [
        Mention(path, index + 1, tuple(sorted(keys)), lines[index].strip())
        for index, keys in sorted(hits.items())
    ]


def _quoted(text: str, start: int, end: int) -> bool:
    return (
        start > 0
        and end < len(text)
        and text[start - 1] in "'\""
        and text[end] == text[start - 1]
    )


def _full(word: str, label: str, by_name: Mapping[str, set[str]]) -> str:
    """The migration name a word stands for: itself, or the old name that a
    bare number starts (the first, if there are several)."""
    if label in by_name.get(word, ()):
        return word
    names = sorted(
        n
        for n, owners in by_name.items()
        if label in owners and n.startswith(word + "_")
    )
    return names[0] if names else word
