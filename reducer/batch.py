"""``ee.batch``: Earth Engine's export tasks, run locally.

``ee.batch.Export.table.toDrive(collection, ...)`` returns a :class:`Task`; ``task.start()`` writes
the table into a local folder, atomically (:func:`reducer.export.export_table`), and
``task.status()`` then reports ``{'state': 'COMPLETED', ...}``. There is no Drive: ``folder`` is a
folder under the export root, which is the current directory unless
``reducer.set_options(export_root=...)`` says otherwise. The file is
``<root>/<folder>/<fileNamePrefix or description>.<ext>``; an existing file of that name is
replaced (atomically), where Drive would add a second file of the same name.

``start()`` runs the export before it returns (Earth Engine queues it), so a script's polling loop
``while task.active(): ...`` ends at once. A failed export raises its error from ``start()`` and
leaves the task ``FAILED`` with the message in ``status()['error_message']``.

``ee.batch.Export.image.toDrive(image, ...)`` writes a Cloud Optimized GeoTIFF the same way, from
``image.to_xarray(region, scale, crs)``; ``Export.image.toAsset`` writes ``<root>/<assetId>.tif``.
Cloud Storage exports have no local meaning yet: ``toCloudStorage`` raises ``NotImplementedError``;
``Export.table.toAsset`` builds a task whose ``start()`` raises it.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from . import options
from .errors import ArgumentError, MaxPixelsError, OutputPathError
from .export import export_table, write_image
from .features import FeatureCollection
from .image import Image

__all__ = ["Export", "Task", "export_folder"]

_IDS = itertools.count(1)

#: Earth Engine's table formats that reducer writes, and their extensions.
TABLE_FORMATS: dict[str, str] = {"CSV": ".csv", "GEOJSON": ".geojson", "GEOPARQUET": ".parquet", "GPKG": ".gpkg"}
_NOT_YET = ("KML", "KMZ", "SHP", "TFRECORD")


class Task:
    """A local export task, as ``ee.batch.Task``: ``start()``, ``status()``, ``active()``, ``cancel()``.

    Examples
    --------
    >>> Task.State.COMPLETED
    'COMPLETED'
    """

    class State:
        """Earth Engine's task states."""

        UNSUBMITTED = "UNSUBMITTED"
        READY = "READY"
        RUNNING = "RUNNING"
        COMPLETED = "COMPLETED"
        FAILED = "FAILED"
        CANCEL_REQUESTED = "CANCEL_REQUESTED"
        CANCELLED = "CANCELLED"

    class Type:
        """Earth Engine's task types."""

        EXPORT_TABLE = "EXPORT_FEATURES"
        EXPORT_IMAGE = "EXPORT_IMAGE"

    def __init__(self, task_type: str, config: dict[str, Any], run: Any):
        self.id = f"LOCAL{next(_IDS):06d}"
        self.task_type = task_type
        self.config = dict(config)
        self.state = Task.State.UNSUBMITTED
        self._run = run
        self._created = _now()
        self._started: int | None = None
        self._updated = self._created
        self._error: str | None = None
        self._uris: list[str] = []

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.task_type}: {self.config.get('description')} ({self.state})>"

    def start(self) -> None:
        """Run the export now; the file is complete when this returns.

        Raises
        ------
        ReducerError
            What the export raised (the task is then ``FAILED``); also when the task ran already.
        """
        if self.state != Task.State.UNSUBMITTED:
            raise ArgumentError(
                f"Task {self.id} ({self.config.get('description')!r}) was started already and is {self.state}. "
                "Create a new task to export again."
            )
        self.state = Task.State.RUNNING
        self._started = self._updated = _now()
        try:
            path = self._run()
        except BaseException as exc:
            self.state = Task.State.FAILED
            self._error = str(exc)
            self._updated = _now()
            raise
        self._uris = [Path(path).resolve().as_uri()]
        self.state = Task.State.COMPLETED
        self._updated = _now()

    def status(self) -> dict[str, Any]:
        """The task's state and details, as Earth Engine's ``Task.status()`` gives them."""
        out: dict[str, Any] = {
            "state": self.state,
            "description": self.config.get("description"),
            "id": self.id,
            "name": f"projects/local/operations/{self.id}",
            "task_type": self.task_type,
            "creation_timestamp_ms": self._created,
            "update_timestamp_ms": self._updated,
        }
        if self._started is not None:
            out["start_timestamp_ms"] = self._started
        if self._uris:
            out["destination_uris"] = list(self._uris)
        if self._error is not None:
            out["error_message"] = self._error
        return out

    def active(self) -> bool:
        """Whether the task is waiting or running (never, once ``start()`` has returned)."""
        return self.state in (Task.State.READY, Task.State.RUNNING)

    def cancel(self) -> None:
        """Cancel a task that was not started; a finished one stays as it is."""
        if self.state == Task.State.UNSUBMITTED:
            self.state = Task.State.CANCELLED
            self._updated = _now()


def _now() -> int:
    return int(time.time() * 1000)


def _export_root() -> Path:
    root = options.get("export_root")
    return Path(os.getcwd() if root is None else os.fspath(root))


def export_folder(folder: str | None) -> Path:
    """The folder ``folder`` under the export root; refused if it resolves outside the root.

    Absolute paths, ``..`` that climbs out, and symbolic links pointing out of the root are refused
    with :class:`reducer.errors.OutputPathError`.

    Examples
    --------
    >>> import tempfile
    >>> old = options.set_options(export_root=tempfile.mkdtemp())
    >>> export_folder("a/b") == _export_root().resolve() / "a" / "b"
    True
    >>> export_folder("a/../../b")
    Traceback (most recent call last):
    ...
    reducer.errors.OutputPathError: Export.table.toDrive: folder='a/../../b' resolves outside the export root ...
    >>> _ = options.set_options(**old)
    """
    root = _export_root().resolve()
    text = "" if folder is None else os.fspath(folder)
    target = (root / text).resolve()
    if os.path.isabs(text) or (target != root and root not in target.parents):
        raise OutputPathError(
            f"Export.table.toDrive: folder={folder!r} resolves outside the export root {str(root)!r} (to "
            f"{str(target)!r}). Give a folder under the root, such as 'exports', or move the root with "
            "`reducer.set_options(export_root=...)`."
        )
    return target


def _selectors(selectors: Any) -> list[str] | None:
    if selectors is None:
        return None
    if isinstance(selectors, str):
        return [s.strip() for s in selectors.split(",") if s.strip()]
    return [str(s) for s in selectors]


def _table(collection: Any, fmt: str, selectors: list[str] | None) -> Any:
    """The frame Earth Engine would export: ``system:index``, the properties, and the geometry.

    CSV holds the geometry as GeoJSON text in a ``.geo`` column, as Earth Engine writes it.
    """
    import pandas as pd
    import shapely

    gdf = collection.to_geopandas().reset_index()
    props = [c for c in gdf.columns if c != "geometry"]
    if fmt == "CSV":
        geo = [None if g is None else json.dumps(shapely.geometry.mapping(g)) for g in gdf.to_crs("EPSG:4326").geometry]
        table = pd.DataFrame(gdf[props]).assign(**{".geo": geo})
        keep = selectors if selectors is not None else [*props, ".geo"]
        missing = [s for s in keep if s not in table.columns]
        if missing:
            raise ArgumentError(_missing(missing, [*props, ".geo"]))
        return table[keep]
    if selectors is not None:
        missing = [s for s in selectors if s not in props]
        if missing:
            raise ArgumentError(_missing(missing, props))
        gdf = gdf[[*selectors, "geometry"]]
    return gdf


def _missing(missing: list[str], known: list[str]) -> str:
    return f"Export.table: selectors {missing!r} are not properties of the collection. Known: {known!r}."


class _Table:
    """``ee.batch.Export.table``."""

    @staticmethod
    def toDrive(
        collection: Any,
        description: str = "myExportTableTask",
        folder: str | None = None,
        fileNamePrefix: str | None = None,
        fileFormat: str | None = "CSV",
        selectors: Any = None,
        maxVertices: int | None = None,
        **kwargs: Any,
    ) -> Task:
        """Export a FeatureCollection as a table into a local folder; call ``start()`` on the result.

        Parameters
        ----------
        collection
            An ``ee.FeatureCollection``.
        description
            The task's name, and the file name when ``fileNamePrefix`` is not given.
        folder
            A folder under the export root (``reducer.set_options(export_root=...)``, by default the
            current directory); created if missing. None writes into the root.
        fileNamePrefix
            The file name without extension; ``description`` by default.
        fileFormat
            ``"CSV"`` (the default; the geometry as GeoJSON text in a ``.geo`` column, as Earth Engine
            writes it), ``"GeoJSON"``, ``"GeoParquet"`` or ``"GPKG"``.
        selectors
            The properties to export, as a list or a comma-separated string; all by default. For CSV,
            name ``.geo`` to keep the geometry.
        maxVertices
            Accepted and ignored: geometries are written whole.

        Returns
        -------
        Task
            An unstarted task.

        Examples
        --------
        >>> import os, tempfile, reducer as ee
        >>> root = tempfile.mkdtemp()
        >>> old = ee.set_options(export_root=root)
        >>> fc = ee.FeatureCollection([ee.Feature(ee.Geometry.Point([15, 47]), {"name": "a"})])
        >>> task = ee.batch.Export.table.toDrive(fc, "points", folder="exports")
        >>> task.status()["state"]
        'UNSUBMITTED'
        >>> task.start()
        >>> task.status()["state"]
        'COMPLETED'
        >>> print(open(os.path.join(root, "exports", "points.csv")).read())
        system:index,name,.geo
        0,a,"{""type"": ""Point"", ""coordinates"": [15.0, 47.0]}"
        <BLANKLINE>
        >>> _ = ee.set_options(**old)
        """
        if not isinstance(collection, FeatureCollection):
            raise ArgumentError(
                f"Export.table.toDrive: collection must be an ee.FeatureCollection, got {type(collection).__name__}."
            )
        unknown = sorted(set(kwargs) - {"priority"})
        if unknown:
            raise ArgumentError(
                f"Unrecognized arguments {unknown!r} to function: Export.table.toDrive. It takes collection, "
                "description, folder, fileNamePrefix, fileFormat, selectors, maxVertices."
            )
        fmt = str(fileFormat or "CSV").upper()
        if fmt in _NOT_YET:
            raise NotImplementedError(
                f"Export.table.toDrive: fileFormat={fileFormat!r} is not supported yet. "
                "Use 'CSV', 'GeoJSON', 'GeoParquet' or 'GPKG'."
            )
        if fmt not in TABLE_FORMATS:
            raise ArgumentError(
                f"Export.table.toDrive: unknown fileFormat {fileFormat!r}. Use 'CSV', 'GeoJSON', 'GeoParquet' or "
                "'GPKG'."
            )
        name = str(fileNamePrefix or description)
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ArgumentError(
                f"Export.table.toDrive: {name!r} cannot be a file name. Give fileNamePrefix without folders; "
                "put those in folder=."
            )
        keep = _selectors(selectors)
        export_folder(folder)  # refused now, not when the task runs
        config = {
            "description": description,
            "folder": folder,
            "fileNamePrefix": name,
            "fileFormat": fmt,
            "selectors": keep,
        }

        def run() -> Path:
            target = export_folder(folder) / (name + TABLE_FORMATS[fmt])
            target.parent.mkdir(parents=True, exist_ok=True)
            return export_table(_table(collection, fmt, keep), target, overwrite=True)

        return Task(Task.Type.EXPORT_TABLE, config, run)

    @staticmethod
    def toCloudStorage(collection: Any, *args: Any, **kwargs: Any) -> Task:
        """Not supported yet: there is no Cloud Storage locally. Use ``toDrive`` (a local folder)."""
        raise NotImplementedError(
            "Export.table.toCloudStorage is not supported yet. Use ee.batch.Export.table.toDrive(...), which "
            "writes into a local folder, or reducer.export_table(collection, 'out.csv')."
        )

    @staticmethod
    def toAsset(
        collection: Any, description: str = "myExportTableTask", assetId: str | None = None, **kwargs: Any
    ) -> Task:
        """A task that fails when started: there are no assets locally. Use ``toDrive`` (a local folder).

        Earth Engine scripts build the task and start it later, so the task is built as in Earth
        Engine and the error comes from ``start()`` (the task is then ``FAILED``).

        Examples
        --------
        >>> task = Export.table.toAsset(None, "d", "users/me/table")
        >>> task.status()["state"]
        'UNSUBMITTED'
        >>> task.start()
        Traceback (most recent call last):
        ...
        NotImplementedError: Export.table.toAsset('users/me/table') is not supported: there are no assets locally. ...
        """

        def run() -> Path:
            raise NotImplementedError(
                f"Export.table.toAsset({assetId!r}) is not supported: there are no assets locally. Use "
                "ee.batch.Export.table.toDrive(...), which writes into a local folder, or "
                "reducer.export_table(collection, 'out.gpkg'), then map the file as a table id in the catalog."
            )

        return Task(Task.Type.EXPORT_TABLE, {"description": description, "assetId": assetId, **kwargs}, run)


class _Image:
    """``ee.batch.Export.image``: GeoTIFFs (Cloud Optimized) in a local folder."""

    @staticmethod
    def toDrive(
        image: Any,
        description: str = "myExportImageTask",
        folder: str | None = None,
        fileNamePrefix: str | None = None,
        dimensions: Any = None,
        region: Any = None,
        scale: float | None = None,
        crs: Any = None,
        crsTransform: list[float] | None = None,
        maxPixels: float | None = None,
        shardSize: int | None = None,
        fileDimensions: Any = None,
        skipEmptyTiles: bool | None = None,
        fileFormat: str | None = "GeoTIFF",
        formatOptions: dict | None = None,
        **kwargs: Any,
    ) -> Task:
        """Export an image as a GeoTIFF into a local folder; call ``start()`` on the result.

        The pixels are those of ``image.to_xarray(region, scale, crs, crsTransform)`` (the grid
        ``reduceRegion`` would use, cropped to ``region``'s bounding box), written as one float64 band
        per image band, NaN where masked, DEFLATE-compressed, tiled, as a Cloud Optimized GeoTIFF,
        atomically. The file is ``<export root>/<folder>/<fileNamePrefix or description>.tif``.
        ``maxPixels`` (default 1e8, as Earth Engine) refuses a larger export. ``dimensions`` is not
        supported (give ``scale``); ``shardSize``, ``fileDimensions``, ``skipEmptyTiles`` and
        ``formatOptions`` are accepted and ignored (one file is written).

        Examples
        --------
        >>> import os, tempfile, rasterio, numpy as np, xarray as xr, rioxarray, reducer as ee
        >>> from affine import Affine
        >>> root = tempfile.mkdtemp()
        >>> old = ee.set_options(export_root=root)
        >>> arr = xr.DataArray(np.array([[1.0, 2.0], [3.0, 4.0]]), dims=("y", "x"))
        >>> img = ee.Image(arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 20)))
        >>> task = ee.batch.Export.image.toDrive(img.multiply(10), "tens", folder="exports")
        >>> task.start()
        >>> with rasterio.open(os.path.join(root, "exports", "tens.tif")) as src:
        ...     src.read(1).tolist(), src.driver
        ([[10.0, 20.0], [30.0, 40.0]], 'GTiff')
        >>> _ = ee.set_options(**old)
        """
        return _image_task(
            "Export.image.toDrive",
            image,
            description,
            folder,
            fileNamePrefix,
            dimensions,
            region,
            scale,
            crs,
            crsTransform,
            maxPixels,
            fileFormat,
            kwargs,
        )

    @staticmethod
    def toAsset(
        image: Any,
        description: str = "myExportImageTask",
        assetId: str | None = None,
        pyramidingPolicy: Any = None,
        dimensions: Any = None,
        region: Any = None,
        scale: float | None = None,
        crs: Any = None,
        crsTransform: list[float] | None = None,
        maxPixels: float | None = None,
        **kwargs: Any,
    ) -> Task:
        """Export an image as a local "asset": ``<export root>/<assetId>.tif``, as ``toDrive`` writes it.

        ``assetId`` may hold folders (``users/me/ndvi_median`` → ``users/me/ndvi_median.tif``); it is
        ``description`` by default. Open the file again with ``ee.Image(path)``. ``pyramidingPolicy``
        is accepted and ignored (the file has overviews; reductions read full resolution).
        """
        asset = str(assetId or description)
        parts = [p for p in asset.replace("\\", "/").split("/") if p]
        if not parts or any(p in (".", "..") for p in parts) or asset.startswith("/"):
            raise ArgumentError(
                f"Export.image.toAsset: assetId {asset!r} cannot be a local file name. Give a relative id such as "
                "'users/me/ndvi_median'."
            )
        folder = "/".join(parts[:-1]) or None
        kwargs.pop("priority", None)
        return _image_task(
            "Export.image.toAsset",
            image,
            description,
            folder,
            parts[-1],
            dimensions,
            region,
            scale,
            crs,
            crsTransform,
            maxPixels,
            "GeoTIFF",
            kwargs,
        )

    @staticmethod
    def toCloudStorage(image: Any, *args: Any, **kwargs: Any) -> Task:
        """Not supported yet: there is no Cloud Storage locally. Use ``toDrive`` (a local folder)."""
        raise NotImplementedError(
            "Export.image.toCloudStorage is not supported yet. Use ee.batch.Export.image.toDrive(...), which "
            "writes a GeoTIFF into a local folder."
        )


_IGNORED_IMAGE_ARGS = {"priority", "shardSize", "fileDimensions", "skipEmptyTiles", "formatOptions"}


def _image_task(
    where: str,
    image: Any,
    description: str,
    folder: str | None,
    prefix: str | None,
    dimensions: Any,
    region: Any,
    scale: float | None,
    crs: Any,
    crs_transform: Any,
    max_pixels: float | None,
    file_format: str | None,
    kwargs: dict[str, Any],
) -> Task:
    if not isinstance(image, Image):
        raise ArgumentError(f"{where}: image must be an ee.Image, got {type(image).__name__}.")
    unknown = sorted(set(kwargs) - _IGNORED_IMAGE_ARGS)
    if unknown:
        raise ArgumentError(f"Unrecognized arguments {unknown!r} to function: {where}.")
    if dimensions is not None:
        raise NotImplementedError(f"{where}: dimensions= is not supported yet. Give scale= (metres per pixel).")
    fmt = str(file_format or "GeoTIFF")
    if fmt.upper() not in ("GEOTIFF", "GEO_TIFF", "TIF", "TIFF"):
        raise NotImplementedError(f"{where}: fileFormat={file_format!r} is not supported yet. Use 'GeoTIFF'.")
    name = str(prefix or description)
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ArgumentError(
            f"{where}: {name!r} cannot be a file name. Give fileNamePrefix without folders; put those in folder=."
        )
    limit = 1e8 if max_pixels is None else float(max_pixels)
    config = {"description": description, "folder": folder, "fileNamePrefix": name, "fileFormat": "GeoTIFF"}

    def run() -> Path:
        ds = image.to_xarray(region=region, scale=scale, crs=crs, crsTransform=crs_transform)
        n = ds.sizes["y"] * ds.sizes["x"]
        if n > limit:
            raise MaxPixelsError(
                f"{where}: the export has {n:,} pixels per band, more than maxPixels={limit:g}. "
                "Give a region, a coarser scale, or a larger maxPixels."
            )
        target = _export_root() / (folder or "") / (name + ".tif")
        target.parent.mkdir(parents=True, exist_ok=True)
        return write_image(ds, target, overwrite=True)

    return Task(Task.Type.EXPORT_IMAGE, config, run)


class Export:
    """``ee.batch.Export``: ``Export.table`` and ``Export.image``, into local folders."""

    table = _Table
    image = _Image
