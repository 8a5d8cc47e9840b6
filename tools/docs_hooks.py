"""MkDocs hooks: generate the parts of the docs that the code already states.

A page asks for a generated block with a marker on a line of its own:

- ``<!-- options: remakemigrations -->``: the command's options, read from its
  argparse parser (Django's common options are named in one line after it);
- ``<!-- usage: remakemigrations -->``: its synopsis, as ``--help`` prints it;
- ``<!-- settings -->``: the settings reference, from ``django_remake.conf.SETTINGS``.

So option names, help texts, setting names, defaults and meanings cannot drift
from the code. The hook imports django_remake from ``src/`` and needs Django
installed; it configures a minimal settings module of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(
    r"^<!-- ((?P<kind>options|usage): (?P<command>\w+)|settings) -->$", re.MULTILINE
)


def _setup() -> None:
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(INSTALLED_APPS=["django_remake"], DATABASES={})
        django.setup()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _flags(action: argparse.Action) -> str:
    metavar = action.metavar or (action.dest.upper() if action.nargs != 0 else None)
    if action.choices and action.nargs != 0:
        metavar = "{" + ",".join(map(str, action.choices)) + "}"
    names = ", ".join(f"`{o}`" for o in action.option_strings)
    return f"{names} `{metavar}`" if metavar else names


def _parser(command: str) -> argparse.ArgumentParser:
    from django.core.management import load_command_class

    return load_command_class("django_remake", command).create_parser(
        "manage.py", command
    )


def usage(command: str) -> str:
    """The command's synopsis, as ``python manage.py COMMAND --help`` starts."""
    os.environ["COLUMNS"] = "80"  # argparse wraps to the terminal's width
    first, *rest = _parser(command).format_usage().rstrip().splitlines()
    lines = [first.replace("usage: ", "$ python ", 1), *("  " + line for line in rest)]
    return "```console\n" + "\n".join(lines) + "\n```\n"


def options_table(command: str) -> str:
    """The options a command adds to Django's, as a Markdown table."""
    from django.core.management.base import BaseCommand

    common = {
        dest
        for action in BaseCommand().create_parser("manage.py", "x")._actions
        for dest in [action.dest]
    }
    rows = ["| option | meaning |", "| --- | --- |"]
    shared = []
    for action in _parser(command)._actions:
        if action.dest in common:
            if action.dest != "help":
                shared.append(f"`{action.option_strings[-1]}`")
            continue
        rows.append(f"| {_flags(action)} | {_cell(action.help or '')} |")
    return (
        "\n".join(rows)
        + "\n\nDjango's options for every command are accepted too: "
        + ", ".join(shared)
        + ".\n"
    )


def _default(value: Any) -> str:
    if isinstance(value, tuple) and not value:
        return "`[]`"
    return f"`{value!r}`"


def settings_table() -> str:
    from django_remake import conf

    rows = ["| setting | type | default | meaning |", "| --- | --- | --- | --- |"]
    for setting in conf.SETTINGS:
        rows.append(
            f"| `{conf.PREFIX}{setting.name}` | {_cell(setting.kind)} | "
            f"{_default(setting.default)} | {_cell(setting.help)} |"
        )
    return "\n".join(rows) + "\n"


def generate(markdown: str) -> str:
    """Replace every marker in a page with its generated block."""

    def block(match: re.Match[str]) -> str:
        _setup()
        if match["kind"] == "usage":
            return usage(match["command"])
        if match["kind"] == "options":
            return options_table(match["command"])
        return settings_table()

    return MARKER.sub(block, markdown)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return generate(markdown)
