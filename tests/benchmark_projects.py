"""The benchmark's own code (``benchmarks/speed.py``) and the projects it
generates, for the tests that run them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def speed_module() -> ModuleType:
    """``benchmarks/speed.py``, imported as ``speed`` (its helpers import it
    under that name)."""
    if "speed" in sys.modules:
        return sys.modules["speed"]
    spec = importlib.util.spec_from_file_location(
        "speed", ROOT / "benchmarks" / "speed.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["speed"] = module
    spec.loader.exec_module(module)
    return module


def generated_project(preset: str, cache: Path) -> Path:
    """The project ``speed.py`` measures as ``preset``, generated into
    ``cache`` once."""
    speed = speed_module()
    apps, per_app = speed.PRESETS[preset]
    generated: Path = speed.generated(apps, per_app, 0, cache, lambda _text: None)
    return generated
