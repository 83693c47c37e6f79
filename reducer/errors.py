"""The ``ReducerError`` family, and the ``ReducerWarning`` family.

Every error the library raises on bad input is a :class:`ReducerError`. Each subclass also
inherits the matching builtin, so ``except ValueError`` keeps working in ported code.
Messages name the bad value, what was expected and the fix.

Input that is usable but suspect gives a :class:`ReducerWarning` instead (a ``UserWarning``), so
``warnings.simplefilter("error", ReducerWarning)`` turns all of them into errors.
"""

from __future__ import annotations

__all__ = [
    "ReducerError",
    "InputFileError",
    "CRSError",
    "GeometryError",
    "BandError",
    "ReducerInputError",
    "ArgumentError",
    "DateError",
    "MaxPixelsError",
    "NodataError",
    "ExpressionError",
    "CatalogError",
    "OutputExistsError",
    "OutputPathError",
    "UnsupportedRasterError",
    "MissingDependencyError",
    "require",
    "ReducerWarning",
    "GeometryWarning",
    "NoOverlapWarning",
    "ReprojectionWarning",
    "AllMaskedWarning",
]


class ReducerError(Exception):
    """Root of every error raised by reducer on bad input."""


class InputFileError(ReducerError, OSError):
    """A file is missing, unreadable or corrupt, or a glob matched nothing."""


class CRSError(ReducerError, ValueError):
    """A raster or a feature set has no CRS, or CRSs cannot be reconciled."""


class GeometryError(ReducerError, ValueError):
    """A geometry is invalid or cannot be used as given."""


class BandError(ReducerError, KeyError):
    """A band name, regex or index selects nothing, or bands do not line up."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ReducerInputError(ReducerError, ValueError):
    """A reducer got the wrong number of inputs for the image it is applied to."""


class ArgumentError(ReducerError, TypeError):
    """An unknown or missing argument, reported the way Earth Engine reports it."""


class DateError(ReducerError, ValueError):
    """A date cannot be parsed, or an image has no date where one is needed."""


class MaxPixelsError(ReducerError, ValueError):
    """A region holds more pixels than ``maxPixels`` allows."""


class NodataError(ReducerError, ValueError):
    """A nodata value that the raster's dtype cannot hold."""


class ExpressionError(ReducerError, ValueError):
    """A malformed or unsupported ``Image.expression``."""


class CatalogError(ReducerError, KeyError):
    """An Earth Engine collection id that is not mapped to a local source."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class OutputExistsError(ReducerError, FileExistsError):
    """An output file exists and overwrite was not asked for."""


class OutputPathError(ReducerError, ValueError):
    """An output path that is not allowed: outside the export root, or not writable."""


class UnsupportedRasterError(ReducerError, NotImplementedError):
    """A raster reducer cannot reduce as it is: rotated, south-up, mirrored or not georeferenced."""


class MissingDependencyError(ReducerError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require(module: str, extra: str, purpose: str, package: str | None = None) -> object:
    """Import optional ``module``, or raise :class:`MissingDependencyError` naming the extra to install.

    Parameters
    ----------
    module
        The module to import (``"pyarrow.parquet"``).
    extra
        The distribution's extra that installs it (``"parquet"``).
    purpose
        What needs it, for the message (``"reading Parquet files"``).
    package
        The package's name on PyPI when it is not the module's (``"pyyaml"`` for ``yaml``).

    Examples
    --------
    >>> require("json", "none", "the example").__name__
    'json'
    >>> require("no_such_module_x", "parquet", "reading Parquet files")
    Traceback (most recent call last):
    ...
    reducer.errors.MissingDependencyError: reading Parquet files needs ... `pip install "ee-reducer[parquet]"` ...
    """
    import importlib

    top = module.split(".")[0]
    try:
        importlib.import_module(top)  # the package first: a submodule already imported would hide its absence
        return importlib.import_module(module)
    except ImportError as exc:
        pip_name = package or top
        raise MissingDependencyError(
            f"{purpose} needs the optional package {top!r}, which is not installed. "
            f'Install it with `pip install "ee-reducer[{extra}]"` (or `pip install {pip_name}`).'
        ) from exc


# -- warnings ----------------------------------------------------------------------------------------


class ReducerWarning(UserWarning):
    """Root of the warnings reducer gives about suspect input."""


class GeometryWarning(ReducerWarning):
    """Invalid geometries were repaired."""


class NoOverlapWarning(ReducerWarning):
    """No feature overlaps the raster: every output is None."""


class ReprojectionWarning(ReducerWarning):
    """A feature's area changed through reprojection to the raster's CRS: its statistics may be wrong."""


class AllMaskedWarning(ReducerWarning):
    """An image has no valid pixel under any feature (all nodata or masked there): every output is None."""
