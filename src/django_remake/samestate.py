"""Do two project states describe the same models? A cheap answer first.

Checking that a history ends in the current models is a job for Django's
autodetector: ``makemigrations --check`` runs it on the history's state and the
models' state, and it renders both, every model twice. A remake asks twice
(before it writes, and in the fresh process that verifies the files), and on a
project of hundreds of models each asks costs about a second.

The autodetector is a function of the two states alone, so when every model
state of one equals the other's (``ModelState.__eq__``: fields by
deconstruction, options, bases, managers) it has nothing to write. Two
differences are not differences to it and are ignored here: the order of
``indexes`` and ``constraints`` (it matches them by equality, not by
position), ``unique_together`` and ``index_together`` as sets of tuples,
as the autodetector compares them (a migration's state keeps them as
written, lists of lists on Django 5.2, where the models' state has tuples),
and ``abstract: False``, which ``ModelState.from_model`` keeps for a model
whose ``Meta`` inherits from an abstract model's and a migration usually does
not write (the autodetector never reads ``abstract``). Any other
difference, however harmless, answers ``False``: the caller then runs the
autodetector, whose verdict and description are Django's.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.migrations.state import ModelState, ProjectState
from django.db.models.options import normalize_together

#: options compared as collections, not sequences
_UNORDERED = ("indexes", "constraints")
#: options compared as sets of field-name tuples, however they were written
_TOGETHER = ("unique_together", "index_together")


def _normalized(model: ModelState) -> ModelState:
    options = dict(model.options)
    if options.get("abstract") is False:
        del options["abstract"]
    for name in _UNORDERED:
        if name in options:
            options[name] = _ordered(options[name])
    for name in _TOGETHER:
        if name in options:
            options[name] = set(normalize_together(options[name]))
    if options == model.options:
        return model
    copy = model.clone()
    copy.options = options
    return copy


def _ordered(items: list[Any]) -> list[Any]:
    """``items`` in one order that does not depend on the order given."""
    return sorted(items, key=lambda item: repr(item.deconstruct()))


def same_models(
    old: ProjectState, new: ProjectState, app_labels: Collection[str] | None = None
) -> bool:
    """``True`` if the autodetector would find no change from ``old`` to
    ``new`` (in ``app_labels``, or in every app ``old`` has migrations for);
    ``False`` if it might.
    """
    real = set(old.real_apps)

    def keys(state: ProjectState) -> set[tuple[str, str]]:
        return {
            key
            for key in state.models
            if key[0] not in real and (app_labels is None or key[0] in app_labels)
        }

    old_keys = keys(old)
    if old_keys != keys(new):
        return False
    return all(
        old.models[key] == new.models[key]
        or _normalized(old.models[key]) == _normalized(new.models[key])
        for key in old_keys
    )
