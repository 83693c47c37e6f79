"""Library-wide options: ``reducer.set_options(scheduler=..., progress=...)``."""

from __future__ import annotations

from typing import Any

from .errors import ArgumentError

__all__ = ["set_options", "get"]

_OPTIONS: dict[str, Any] = {
    "scheduler": None,
    "progress": None,
    "invalid_geometry": "repair",
    "export_root": None,
    "max_plan_pixels": 1e8,
    "confine_catalogs": False,
}
_CHOICES: dict[str, tuple[Any, ...]] = {"invalid_geometry": ("repair", "error"), "confine_catalogs": (False, True)}


def set_options(**kwargs: Any) -> dict[str, Any]:
    """Set options; returns the previous values.

    Parameters
    ----------
    scheduler
        A dask scheduler name (``"threads"``, ``"synchronous"``, ``"processes"``), a
        ``distributed.Client``, or None for dask's default (the active client if any, else threads).
    progress
        True to always show a progress bar, False never, None (the default) to decide from where the code
        runs: a widget in Jupyter, text on a terminal, none when output is piped.
    invalid_geometry
        What reductions do with invalid geometries (a self-intersecting "bowtie"): ``"repair"`` (the
        default) repairs them with ``shapely.make_valid`` and warns, naming the features; ``"error"``
        raises :class:`reducer.errors.GeometryError`.
    export_root
        The folder that ``ee.batch.Export.table.toDrive(folder=...)`` writes under; None (the default)
        for the current directory.
    max_plan_pixels
        The most (feature, pixel) entries one image's reduction may plan, all features together
        (``1e8`` by default; None for no limit). A larger plan raises
        :class:`reducer.errors.MaxPixelsError` before anything is read.
    confine_catalogs
        True to confine TOML catalogs and STAC catalogs read from a file to the catalog's own folder:
        a path, link or asset href that resolves outside it (an absolute path, ``../``, a symbolic
        link out, another host) raises :class:`reducer.errors.InputFileError`. False (the default)
        lets them point anywhere.

    Examples
    --------
    >>> old = set_options(scheduler="synchronous")
    >>> get("scheduler")
    'synchronous'
    >>> _ = set_options(**old)
    """
    unknown = set(kwargs) - set(_OPTIONS)
    if unknown:
        raise ArgumentError(f"set_options: unknown option(s) {sorted(unknown)!r}; known: {sorted(_OPTIONS)!r}.")
    for k, choices in _CHOICES.items():
        if k in kwargs and kwargs[k] not in choices:
            raise ArgumentError(f"set_options: {k}={kwargs[k]!r} is not one of {list(choices)!r}.")
    old = {k: _OPTIONS[k] for k in kwargs}
    _OPTIONS.update(kwargs)
    return old


def get(name: str) -> Any:
    """The current value of an option."""
    return _OPTIONS[name]
