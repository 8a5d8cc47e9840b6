"""Which apps belong to the project, and where their migration files live.

An app is *first-party* when its code lives inside the project directory
(``settings.BASE_DIR``, or the working directory when there is none) or inside
the repository that holds it (the nearest folder above with ``.git``, ``.hg``
or ``pyproject.toml``: a ``src/`` layout, a monorepo), and does not come from
an installed distribution: not from site-packages, and not from an editable
install of another project. ``REMAKE_MIGRATIONS_INCLUDE_APPS`` and
``REMAKE_MIGRATIONS_EXCLUDE_APPS`` override the guess.
"""

from __future__ import annotations

import importlib
import json
import site
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.apps import AppConfig, apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

from .conf import RemakeSettings
from .errors import NotReady


@dataclass(frozen=True)
class ProjectApp:
    """A first-party app whose migrations django-remake owns."""

    label: str
    module: str  # dotted path of the migrations package
    directory: Path


def project_root() -> Path:
    base = getattr(settings, "BASE_DIR", None)
    return Path(base).resolve() if base else Path.cwd().resolve()


#: what marks the root of a repository (or of a Python project without one)
REPOSITORY_MARKERS = (".git", ".hg", "pyproject.toml")


def repository_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (the project directory) that
    holds ``.git``, ``.hg`` or ``pyproject.toml``; ``None`` if there is none."""
    folder = (start or project_root()).resolve()
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in REPOSITORY_MARKERS):
            return candidate
    return None


def first_party_roots() -> tuple[Path, ...]:
    """The folders whose apps are first-party: the project directory, and the
    repository root above it when that is a different folder."""
    root = project_root()
    repository = repository_root(root)
    if repository is None or _is_within(repository, root):
        return (root,)
    return (root, repository)


def describe_roots() -> str:
    """The folders :func:`first_party_roots` searched, for a message."""
    roots = first_party_roots()
    if getattr(settings, "BASE_DIR", None):
        shown = f"{roots[0]} (settings.BASE_DIR)"
    else:
        shown = (
            f"{roots[0]} (the folder the command ran in; settings.BASE_DIR is not set)"
        )
    if len(roots) > 1:
        shown += f" and {roots[1]} (the repository root)"
    return shown


def _is_within(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


@cache
def _installed_roots() -> tuple[Path, ...]:
    """Folders that hold installed distributions' code."""
    roots: set[Path] = set()
    for key in ("purelib", "platlib"):
        roots.add(Path(sysconfig.get_paths()[key]).resolve())
    for folder in [*site.getsitepackages(), site.getusersitepackages()]:
        roots.add(Path(folder).resolve())
    return tuple(sorted(roots))


@cache
def _editable_roots() -> tuple[Path, ...]:
    """Source folders of editable installs (``pip install -e``)."""
    found: set[Path] = set()
    for dist in metadata.distributions():
        raw = dist.read_text("direct_url.json")
        if not raw:
            continue
        try:
            info = json.loads(raw)
        except ValueError:
            continue
        if not info.get("dir_info", {}).get("editable"):
            continue
        url = urlparse(info.get("url", ""))
        if url.scheme == "file":
            found.add(Path(unquote(url.path)).resolve())
    return tuple(sorted(found))


def is_first_party_path(path: Path, root: Path) -> bool:
    path = path.resolve()
    return _is_within(path, root) and not is_installed_path(path, root)


def is_installed_path(path: Path, root: Path) -> bool:
    """Does an installed distribution own ``path`` (site-packages, or an
    editable install of a project other than the one at ``root``)?"""
    path = path.resolve()
    if any(_is_within(path, installed) for installed in _installed_roots()):
        return True
    # An editable install of *another* project counts as third-party; an editable
    # install of this project (its root contains the project root) does not.
    return any(
        _is_within(path, editable) and not _is_within(root, editable)
        for editable in _editable_roots()
    )


def _migrations_directory(app_config: AppConfig) -> tuple[str, Path] | None:
    module_name, _explicit = MigrationLoader.migrations_module(app_config.label)
    if module_name is None:
        return None  # migrations disabled through MIGRATION_MODULES = {app: None}
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    paths = list(getattr(module, "__path__", []))
    if len(paths) != 1:
        return None  # a namespace package or a single-file module: not ours to write
    return module_name, Path(paths[0]).resolve()


def select_apps(
    config: RemakeSettings, labels: Iterable[str] | None = None
) -> list[ProjectApp]:
    """The first-party apps with a migrations package, in INSTALLED_APPS order."""
    known = {app.label for app in apps.get_app_configs()}
    for name, chosen in (
        ("INCLUDE_APPS", config.include_apps or ()),
        ("EXCLUDE_APPS", config.exclude_apps),
    ):
        unknown = sorted(set(chosen) - known)
        if unknown:
            raise NotReady(
                f"REMAKE_MIGRATIONS_{name} names apps that are not installed: "
                + ", ".join(f"'{label}'" for label in unknown)
                + ". Use app labels from INSTALLED_APPS."
            )
    roots = first_party_roots()
    result = []
    for app_config in apps.get_app_configs():
        if config.include_apps is not None:
            wanted = app_config.label in config.include_apps
        else:
            wanted = any(
                is_first_party_path(Path(app_config.path), folder) for folder in roots
            )
        if not wanted or app_config.label in config.exclude_apps:
            continue
        if labels is not None and app_config.label not in labels:
            continue
        found = _migrations_directory(app_config)
        if found is None:
            continue
        module_name, directory = found
        result.append(ProjectApp(app_config.label, module_name, directory))
    return result


def migration_files(directory: Path) -> list[Path]:
    """The migration modules in a migrations folder, as Django's loader sees them."""
    return sorted(
        path
        for path in directory.glob("*.py")
        if path.name != "__init__.py" and path.name[0] not in "_~"
    )


def why_not_remade(label: str, config: RemakeSettings) -> tuple[str, str]:
    """Why the app ``label`` is not among the apps to remake, and what would
    make it one: ``(reason, fix)``, each a sentence fragment for a message."""
    if label in config.exclude_apps:
        return (
            "it is listed in REMAKE_MIGRATIONS_EXCLUDE_APPS",
            f"remove '{label}' from REMAKE_MIGRATIONS_EXCLUDE_APPS",
        )
    if config.include_apps is not None:
        return (
            "REMAKE_MIGRATIONS_INCLUDE_APPS does not list it",
            f"add '{label}' to REMAKE_MIGRATIONS_INCLUDE_APPS",
        )
    path = Path(apps.get_app_config(label).path).resolve()
    if not any(_is_within(path, folder) for folder in first_party_roots()):
        return (
            f"its code ({path}) is outside {describe_roots()}",
            "run the command from the project's root folder, set BASE_DIR in "
            "the settings, or list the apps to remake in "
            "REMAKE_MIGRATIONS_INCLUDE_APPS",
        )
    return (
        "it is an installed package",
        f"list '{label}' in REMAKE_MIGRATIONS_INCLUDE_APPS if it is part of the "
        "project",
    )
