"""``remakemigrations --report``: Markdown for a pull request, JSON as documented.

The report does not depend on the database backend: SQLite only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import REMAKED
from .harness import Project

DOCS = Path(__file__).resolve().parent.parent / "docs" / "report.md"


def documented_keys() -> set[str]:
    """The keys of the schema table in docs/report.md: ``a``, ``a.b``, ``a[].b``."""
    return set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", DOCS.read_text(), re.M))


def keys_of(data: Any, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            found |= keys_of(value, path)
    elif isinstance(data, list):
        for item in data:
            found |= keys_of(item, f"{prefix}[]")
    return found


def check_schema(report: dict[str, Any]) -> None:
    documented = documented_keys()
    found = keys_of(report)
    assert found - documented == set(), "keys missing from docs/report.md"
    for key in documented - found:
        # Only the keys of the items of a list that is empty here may be absent.
        lists = [key[:i] for i in range(len(key)) if key.startswith("[]", i)]
        empty = [
            name
            for name in lists
            if name in found and not any(k.startswith(f"{name}[]") for k in found)
        ]
        assert empty, f"{key} is documented, not written"


def test_dry_run_writes_a_json_report_that_matches_the_docs(
    migrated_shop: Project, tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"

    result = migrated_shop.manage(
        "remakemigrations",
        "--dry-run",
        "--report",
        str(path),
        "--report-format",
        "json",
    )

    report = json.loads(path.read_text())
    check_schema(report)
    assert report["version"] == 1
    assert report["status"] == "planned"
    assert report["totals"] == {
        "apps": 1,
        "migrations_before": 5,
        "operations_before": report["totals"]["operations_before"],
        "migrations_after": 1,
        "operations_after": report["totals"]["operations_after"],
    }
    [migration] = report["migrations"]
    assert REMAKED.match(Path(migration["path"]).name), migration
    assert migration["replaces"] == [
        f"shop.{p.stem}"
        for p in sorted((migrated_shop.root / "shop" / "migrations").glob("0*.py"))
    ]
    [seed] = report["old_operations"]
    assert (seed["migration"], seed["fate"], seed["into"]) == (
        "shop.0003_seed_items",
        "carried",
        f"shop.{migration['name']}",
    )
    assert report["verified"] == []
    assert len(report["deleted_files"]) == 5
    # A dry run wrote nothing but the report.
    assert "Planned migrations:" in result.stdout
    assert not any(
        REMAKED.match(p.name)
        for p in (migrated_shop.root / "shop/migrations").iterdir()
    )


def test_a_remake_writes_a_markdown_report(
    migrated_shop: Project, tmp_path: Path
) -> None:
    path = tmp_path / "remake.md"

    out = migrated_shop.manage(
        "remakemigrations", "--no-input", "--report", str(path), "-v", "2"
    ).stdout

    assert f"Report written to {path}." in out
    text = path.read_text()
    [name] = [
        p.stem
        for p in (migrated_shop.root / "shop/migrations").iterdir()
        if REMAKED.match(p.name)
    ]
    assert text.startswith("## Migrations remade with django-remake\n"), text
    assert "| shop | 5 | 1 |" in text
    assert f"- `shop/migrations/{name}.py` (" in text
    assert "replaces 5: `shop.0001_initial`, `shop.0002_" in text
    assert (
        f"| `shop.0003_seed_items` #1 RunPython (`seed`) | carried into `shop.{name}` "
        "| changed 1 row of 'shop_item' |"
    ) in text
    verified = text.split("### Verified\n\n", 1)[1].split("\n\n", 1)[0]
    assert verified.splitlines() == [
        "- makemigrations finds no changes",
        "- migrate has nothing to apply on 'default'",
        "- the old and the new history build the same database on 'default'",
    ]
    steps = text.split("### Next steps\n\n", 1)[1]
    assert steps.startswith("1. Review the new migrations")
    assert "delete_remaked_migrations --remove-replaced" in steps


def test_a_refused_run_writes_no_report(
    sqlite_project: Callable[[str], Project], tmp_path: Path
) -> None:
    project = sqlite_project("shop")  # its database is not migrated
    path = tmp_path / "remake.md"
    path.write_text("an older report\n")

    result = project.manage(
        "remakemigrations", "--no-input", "--report", str(path), ok=False
    )

    assert "Every database must be fully migrated" in result.stderr
    assert path.read_text() == "an older report\n"
    missing = project.manage(
        "remakemigrations", "--report", str(tmp_path / "no" / "r.md"), ok=False
    )
    assert missing.stderr == (
        f"CommandError: --report {tmp_path / 'no' / 'r.md'}: the folder does not "
        "exist.\n"
    )
