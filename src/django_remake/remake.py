"""The remake, start to finish: the one entry point behind ``remakemigrations``.

Two calls, so that a caller can show the plan and ask before anything is
written, as the command does::

    prepared = prepare(Options(), progress)   # reads only
    ...                                       # show prepared.plan, confirm
    result = execute(prepared, progress)      # the write, then the proof

:func:`remake` does both. Neither prints: progress is reported through the
callback, as Django's ``MigrationExecutor`` does, and every failure a user can
fix is a :class:`~django_remake.errors.RemakeError` whose message says what
was found and what to do.
"""

from __future__ import annotations

import contextlib
import datetime
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import django
from django.core.exceptions import ImproperlyConfigured

from . import apply as apply_step
from . import (
    carry,
    children,
    conf,
    inventory,
    linear,
    mentions,
    plan,
    project,
    proof,
    snapshot,
    verify,
    writer,
)
from .errors import ApplyError, Interrupted, NotReady, RemakeError, VerifyError
from .progress import INFO, WARNING, Progress, ProgressCallback, ignore, step

__all__ = [
    "Options",
    "Prepared",
    "Progress",
    "ProgressCallback",
    "Result",
    "exclusive",
    "execute",
    "prepare",
    "remake",
]


@dataclass(frozen=True)
class Options:
    """What the user asked for; the defaults are a plain ``remakemigrations``."""

    keep_old: bool = False
    #: do not connect to the databases (they cannot be reached from here)
    skip_db_check: bool = False
    #: build the old history on new databases (observing the operations the
    #: models cannot re-create) and the new one after the write, and compare
    verify_schema: bool = True
    include_header: bool = True
    #: more patterns for REMAKE_MIGRATIONS_KEEP_OPERATIONS / DROP_OPERATIONS
    keep_operations: tuple[str, ...] = ()
    drop_operations: tuple[str, ...] = ()
    #: drop every RunPython and RunSQL that creates no schema object
    drop_data_migrations: bool = False


@dataclass
class Prepared:
    """Everything decided before the first write."""

    options: Options
    root: Path
    config: conf.RemakeSettings
    snapshot: snapshot.Snapshot
    plan: plan.Plan
    files: list[writer.RenderedFile]
    #: the aliases whose django_migrations was read
    aliases: list[str]
    #: the number of first-party apps remade
    app_count: int
    #: the old history on new databases, kept for the proof
    observation: proof.Observation = field(default_factory=proof.Observation)
    #: files that are not migrations rewritten in place (max_migration.txt)
    rewritten: list[Path] = field(default_factory=list)
    #: lines of code outside the migration folders that name old migrations
    mentions: list[mentions.Mention] = field(default_factory=list)

    def close(self) -> None:
        """Drop the new databases the old history was built on."""
        self.observation.close()

    def __enter__(self) -> Prepared:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class Result:
    """What a finished remake did and proved."""

    prepared: Prepared
    verified: list[str] = field(default_factory=list)
    #: differences the old history's own leftovers explain (information)
    leftovers: list[str] = field(default_factory=list)
    #: differences made by operations the user chose to drop (information)
    requested: list[str] = field(default_factory=list)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, Interrupted):
        return f"terminated by {exc}"
    return f"{type(exc).__name__}: {exc}"


def prepare(options: Options, progress: ProgressCallback = ignore) -> Prepared:
    """Inspect the project and plan the new history; writes nothing.

    Raise :class:`~django_remake.errors.Recovered` after rolling back a run
    that was killed mid-write, and a :class:`RemakeError` for every starting
    point that cannot be remade safely.
    """
    root = project.project_root()
    apply_step.recover_interrupted(root)
    try:
        config = conf.load()
    except ImproperlyConfigured as exc:
        raise NotReady(str(exc)) from exc
    project_apps = project.select_apps(config)
    if not project_apps:
        raise NotReady(
            "No first-party app with migrations was found under "
            f"{project.describe_roots()}. Set REMAKE_MIGRATIONS_INCLUDE_APPS to "
            "the app labels to remake."
        )
    with step(progress, "inspect", "Reading the migration history"):
        snap = snapshot.take_snapshot(
            project_apps, with_databases=not options.skip_db_check
        )
    if options.skip_db_check:
        progress(
            Progress(
                "inspect",
                WARNING,
                "--skip-db-check: the databases were NOT checked. Any database "
                "that is not fully migrated will silently miss schema after the "
                "remake.",
            )
        )
    else:
        snapshot.check_databases(snap)
    plan.check_no_pending_changes(snap)
    if (
        options.keep_old
        and django.VERSION < (6, 0)
        and any(key[0] in snap.labels for key in snap.loader.replacements)
    ):
        raise NotReady(
            "--keep-old-migrations cannot be used while first-party squashed "
            "migrations are on disk: Django < 6.0 cannot load a migration that "
            "replaces a squashed migration. Run without --keep-old-migrations, "
            "or finish the squash first (delete the replaced files and the "
            "squashed migration's `replaces`)."
        )
    old_operations = inventory.take_inventory(snap.graph, snap.old_nodes())
    rules = carry.Rules(
        keep=config.keep_operations + options.keep_operations,
        drop=config.drop_operations + options.drop_operations,
        drop_data_migrations=options.drop_data_migrations,
    )
    carry.check_rules(rules, old_operations)
    observation = _observe(options, snap, old_operations, progress)
    try:
        fates = carry.decide(
            old_operations, observation.effects, rules, not_observed=observation.why_not
        )
        with step(progress, "plan", "Planning the new history"):
            apply_step.fault_point("plan")
            the_plan = plan.build_plan(
                snap,
                config,
                keep_old=options.keep_old,
                today=datetime.date.today(),
                fates=fates,
                run_before=inventory.run_before(
                    snap.graph, snap.old_nodes(), snap.labels
                ),
            )
            # Code from any app's migration modules is copied: "0002_x" cannot be
            # imported by name, and the first-party ones are about to be deleted.
            files = writer.render(the_plan, include_header=options.include_header)
            max_files = linear.after_remake(the_plan)
            files += [
                writer.RenderedFile(item.path, item.data.decode(), format=False)
                for item in max_files
            ]
    except BaseException:
        observation.close()
        raise
    return Prepared(
        options=options,
        root=root,
        config=config,
        snapshot=snap,
        plan=the_plan,
        files=files,
        aliases=sorted(snap.applied),
        app_count=len(project_apps),
        observation=observation,
        rewritten=[item.path for item in max_files if item.path.exists()],
        mentions=mentions.find(
            old=[
                (label, path.stem)
                for label, paths in snap.files.items()
                for path in paths
            ],
            remaining={
                label: [
                    item.migration.name
                    for item in the_plan.new
                    if item.migration.app_label == label
                ]
                for label in snap.labels
            },
            roots=project.first_party_roots(),
            skip=[app.directory for app in project_apps],
        ),
    )


def _observe(
    options: Options,
    snap: snapshot.Snapshot,
    old_operations: list[inventory.OldOperation],
    progress: ProgressCallback,
) -> proof.Observation:
    if options.skip_db_check:
        observation = proof.not_observed("--skip-db-check: no database was used")
    elif not options.verify_schema:
        observation = proof.not_observed("--no-verify-schema")
    else:
        aliases = snapshot.migrated_aliases(snap.labels)
        observation = proof.observe(old_operations, aliases, progress)
    if observation.effects is None:
        progress(
            Progress(
                "build",
                WARNING,
                f"Nothing was observed or will be proven ({observation.why_not}): "
                "every operation the models cannot re-create is carried, unless "
                "elidable.",
            )
        )
    return observation


def execute(prepared: Prepared, progress: ProgressCallback = ignore) -> Result:
    """Write the planned files, verify and prove them, and undo everything on
    failure. Drops the databases of the observation when done."""
    result = Result(prepared)
    with prepared, apply_step.sigterm_unwinds():
        with step(progress, "write", "Writing the new migrations"):
            transaction = _apply(prepared)
        try:
            apply_step.fault_point("verify")
            with step(progress, "verify", "Verifying in a fresh process") as count:
                verified = verify.verify(prepared.aliases, progress=count)
            verify.require_clean(verified)
            proven = proof.prove(
                prepared.observation,
                prepared.plan.fates,
                prepared.plan.placements,
                prepared.snapshot,
                progress,
            )
        except (Exception, KeyboardInterrupt, Interrupted) as exc:
            transaction.rollback()
            if isinstance(exc, RemakeError):
                raise VerifyError(f"{exc}\nEvery file was restored.") from exc
            raise VerifyError(
                f"Verification stopped ({_reason(exc)}); every file was "
                "restored and the project is as it was."
            ) from exc
        transaction.commit()
    result.verified.append("makemigrations finds no changes")
    if prepared.aliases:
        result.verified.append(
            "migrate has nothing to apply on "
            + ", ".join(f"'{a}'" for a in prepared.aliases)
        )
    if proven.aliases:
        result.verified.append(
            "the old and the new history build the same database on "
            + ", ".join(f"'{a}'" for a in proven.aliases)
        )
    result.leftovers.extend(proven.leftovers)
    result.requested.extend(proven.requested)
    _run_post_commands(prepared.config.post_commands, progress)
    return result


def exclusive(dry_run: bool = False) -> contextlib.AbstractContextManager[None]:
    """Hold the project's lock around :func:`prepare` and :func:`execute`.

    Another run (of either command) is refused until the block ends, and a
    Ctrl-C or SIGTERM becomes one :class:`~django_remake.errors.Stopped` that
    says what the run left (see :func:`django_remake.apply.exclusive`).
    """
    return apply_step.exclusive(
        project.project_root(),
        "remakemigrations",
        done="the remade migrations were written and verified; they are in "
        "place (the summary and any REMAKE_MIGRATIONS_POST_COMMANDS were skipped)",
        read_only=dry_run,
    )


def remake(options: Options, progress: ProgressCallback = ignore) -> Result:
    """:func:`prepare`, then :func:`execute`, without asking anyone."""
    with exclusive():
        return execute(prepare(options, progress), progress)


def _apply(prepared: Prepared) -> apply_step.Transaction:
    try:
        # An edited file is moved aside like an old one, and its new text put in.
        edited = [edit.path for edit in prepared.plan.rewrites]
        delete = [*prepared.plan.delete, *edited, *prepared.rewritten]
        return apply_step.apply(prepared.root, prepared.files, delete)
    except RemakeError:
        raise
    except (Exception, KeyboardInterrupt, Interrupted) as exc:
        raise ApplyError(
            f"Writing the new migrations stopped ({_reason(exc)}); every "
            "file was restored and the project is as it was."
        ) from exc


def _run_post_commands(
    commands: Sequence[Sequence[str]], progress: ProgressCallback
) -> None:
    for command in commands:
        shown = f"manage.py {' '.join(command)}"
        with step(progress, "post-command", f"Running: {shown}"):
            done = subprocess.run(
                [sys.executable, "-m", "django", *command],
                env=children.environment(),
                capture_output=True,
                text=True,
            )
        if done.stdout:
            progress(Progress("post-command", INFO, done.stdout.rstrip()))
        if done.returncode != 0:
            raise RemakeError(
                f"REMAKE_MIGRATIONS_POST_COMMANDS: `{shown}` failed with exit code "
                f"{done.returncode}; the remade migrations are in place and "
                f"verified.\n{done.stderr.strip()}"
            )
