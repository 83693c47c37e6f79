"""``ee.ImageCollection``: a sequence of lazy images with metadata, and reductions over time.

Filtering, sorting and mapping work on metadata and lazy expressions only. ``reduceRegions``
reduces every image over every feature in one dask graph, when a result is asked for.
"""

from __future__ import annotations

import glob as globlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import composites as _composites
from .errors import ArgumentError, InputFileError
from .filters import Filter
from .image import Image
from .validate import known_arguments
from .values import ComputedObject, List, Number, parse_set_args, unwrap

__all__ = ["ImageCollection", "Reduction"]

RASTER_SUFFIXES = (".tif", ".tiff", ".TIF", ".TIFF", ".vrt", ".img", ".jp2")


def _is_glob(s: str) -> bool:
    return any(ch in s for ch in "*?[")


def _paths_from(source: str | os.PathLike) -> list[str]:
    s = str(source)
    if "://" in s or s.startswith("/vsi"):
        return [s]
    if _is_glob(s):
        paths = sorted(globlib.glob(s, recursive=True))
        if not paths:
            raise InputFileError(f"the pattern {s!r} matched no file. Check the folder and the pattern.")
        return paths
    p = Path(s)
    if p.is_dir():
        paths = sorted(str(x) for x in p.iterdir() if x.suffix in RASTER_SUFFIXES)
        if not paths:
            raise InputFileError(
                f"the folder {s!r} holds no raster (*.tif, *.tiff). Point at the folder with the files."
            )
        return paths
    if p.exists():
        return [s]
    if "/" in s and not p.suffix and not s.startswith((".", "/")):
        from .catalog import unmapped_error

        raise unmapped_error(s, "collection")
    raise InputFileError(f"{s!r} is not a file, a folder or a glob that matches files.")


def _images_from_xarray(obj: Any) -> list[Image]:
    from .cube import images_from_xarray

    return images_from_xarray(obj)


class ImageCollection(ComputedObject):
    """An Earth Engine image collection over local rasters.

    Parameters
    ----------
    source
        A glob (``"s2/*.tif"``), a folder, a list of paths, a list of ``ee.Image``, an xarray object
        with a ``time`` dimension, or an ``ee.ImageCollection``.

    Examples
    --------
    >>> ic = ImageCollection([Image(1).set("system:time_start", 0), Image(2).set("system:time_start", 86400000)])
    >>> ic.size().getInfo()
    2
    >>> ic.filterDate("1970-01-02", "1970-01-03").size().getInfo()
    1
    """

    __slots__ = ("_images", "_props")

    def __init__(self, source: Any = None, properties: dict | None = None, *, _images: Sequence[Image] | None = None):
        if _images is not None:
            images = list(_images)
        elif isinstance(source, ImageCollection):
            images = list(source._images)
        elif source is None:
            images = []
        elif isinstance(source, str | os.PathLike):
            from .catalog import collection_images  # an Earth Engine id, a STAC JSON file or a cube

            images = collection_images(str(source))
            if images is None:
                images = [Image(p) for p in _paths_from(source)]
        elif isinstance(source, list | tuple):
            images = [x if isinstance(x, Image) else Image(x) for item in source for x in _expand(item)]
        elif type(source).__name__ in ("DataArray", "Dataset"):
            images = _images_from_xarray(source)
        else:
            raise ArgumentError(
                f"ee.ImageCollection({source!r}): expected a glob, a folder, a list of paths or ee.Images, "
                "or an xarray object with a time dimension."
            )
        object.__setattr__(self, "_images", tuple(images))
        object.__setattr__(self, "_props", dict(properties or {}))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ee.ImageCollection is immutable; methods return new collections")

    def __repr__(self) -> str:
        return f"ee.ImageCollection(<{len(self._images)} images>)"

    def _with(self, images: Sequence[Image]) -> ImageCollection:
        return ImageCollection(_images=images, properties=self._props)

    @staticmethod
    def fromImages(images: Sequence[Image]) -> ImageCollection:
        """A collection of the given images."""
        return ImageCollection(list(unwrap(images)))

    @staticmethod
    def fromStac(
        items_or_catalog: Any,
        assets: Sequence[str] | None = None,
        bands: dict[str, str | Sequence[str]] | None = None,
        apply_scale: bool = False,
    ) -> ImageCollection:
        """One image per STAC item, built from the items' metadata (see :mod:`reducer.stac`).

        Parameters
        ----------
        items_or_catalog
            A ``pystac.ItemCollection``, ``Catalog`` or list of ``Item``, or the path of a static catalog,
            collection or ItemCollection JSON file.
        assets
            The assets that become bands (default: those with role ``data``, else the GeoTIFF assets).
        bands
            Band names per asset, ``{asset: name}`` (a list of names for a multi-band asset).
        apply_scale
            Apply the ``raster:bands`` ``scale`` and ``offset`` (pixels become float64).

        Item properties become image properties (``eo:cloud_cover``, ``platform``, ``proj:epsg``, ...),
        ``datetime`` gives ``system:time_start``, the item id ``system:index`` and the item geometry the
        footprint that ``filterBounds`` uses. No file is opened while the collection is built and filtered
        when the items carry ``proj:`` (CRS, transform, shape) and ``raster:bands`` (``data_type``) fields;
        an asset without them has its file's header read when the collection is built.
        """
        from .stac import images_from_stac

        return ImageCollection(_images=images_from_stac(items_or_catalog, assets, bands, apply_scale))

    @staticmethod
    def fromXarray(ds: Any, time: str = "time", bands: Sequence[str] | None = None) -> ImageCollection:
        """One image per time step of an xarray Dataset (NetCDF, Zarr, ...) with a CRS (see :mod:`reducer.cube`).

        Each ``(time, y, x)`` variable (or those in ``bands``) is a band. The CRS comes from rioxarray's
        ``ds.rio.crs`` or a ``spatial_ref``/``crs`` grid-mapping variable. Pixels are lazy slices of the
        cube's own chunks: nothing is read, and nothing is rechunked along time.
        """
        from .cube import images_from_xarray

        return ImageCollection(_images=images_from_xarray(ds, time, bands))

    # -- metadata ---------------------------------------------------------------------------------
    def _table(self) -> tuple[pd.DataFrame, Any]:
        import geopandas as gpd

        table = pd.DataFrame([dict(img._props) for img in self._images], index=range(len(self._images)))
        footprints = gpd.GeoSeries([_footprint(img) for img in self._images], crs="EPSG:4326")
        return table, footprints

    def filter(self, filter: Filter) -> ImageCollection:
        """Keep the images that pass ``filter`` (metadata only)."""
        if not isinstance(filter, Filter):
            raise ArgumentError(f"ImageCollection.filter: expected an ee.Filter, got {filter!r}.")
        if not self._images:
            return self
        table, footprints = self._table()
        keep = np.asarray(filter._mask(table, footprints), dtype=bool)
        return self._with([img for img, k in zip(self._images, keep, strict=True) if k])

    def filterDate(self, start: Any, end: Any = None) -> ImageCollection:
        """Keep images with ``start <= system:time_start < end``."""
        return self.filter(Filter.date(start, end))

    def filterBounds(self, geometry: Any) -> ImageCollection:
        """Keep images whose footprint intersects ``geometry`` (a Geometry, Feature or FeatureCollection)."""
        return self.filter(Filter.bounds(_bounds_geometry(geometry)))

    def filterMetadata(self, name: str, operator: str, value: Any) -> ImageCollection:
        """Keep images whose property ``name`` passes ``operator`` against ``value``."""
        return self.filter(Filter.metadata(name, operator, value))

    def map(self, algorithm: Callable[[Image], Image], opt_dropNulls: bool = False) -> ImageCollection:
        """Apply ``algorithm`` to each image (builds lazy expressions; reads no pixel)."""
        out = []
        for img in self._images:
            res = algorithm(img)
            if res is None and opt_dropNulls:
                continue
            if not isinstance(res, Image):
                raise ArgumentError(f"ImageCollection.map: the function returned {res!r}; it must return an ee.Image.")
            out.append(res)
        return self._with(out)

    def select(self, *selectors: Any, **kwargs: Any) -> ImageCollection:
        """Select bands of every image (same arguments as ``Image.select``)."""
        return self._with([img.select(*selectors, **kwargs) for img in self._images])

    def sort(self, property: str, ascending: bool = True) -> ImageCollection:
        """Sort by a property; images without it go last."""
        keyed = [(img._props.get(property), i, img) for i, img in enumerate(self._images)]
        present = sorted([k for k in keyed if k[0] is not None], key=lambda k: (k[0], k[1]), reverse=not ascending)
        missing = [k for k in keyed if k[0] is None]
        return self._with([k[2] for k in present + missing])

    def limit(self, max: int, property: str | None = None, ascending: bool = True) -> ImageCollection:
        """The first ``max`` images, optionally after sorting by ``property``."""
        ic = self.sort(property, ascending) if property else self
        return self._with(ic._images[: int(unwrap(max))])

    def first(self) -> Image:
        """The first image."""
        if not self._images:
            raise ArgumentError("ImageCollection.first: the collection is empty. Check the filters.")
        return self._images[0]

    def size(self) -> Number:
        """The number of images."""
        return Number(len(self._images))

    def toList(self, count: int, offset: int = 0) -> List:
        """Up to ``count`` images from ``offset``, as an ``ee.List``."""
        return List(list(self._images[int(offset) : int(offset) + int(count)]))

    def merge(self, collection2: ImageCollection) -> ImageCollection:
        """Merge: the images of this collection, then those of ``collection2``."""
        return self._with(list(self._images) + list(ImageCollection(collection2)._images))

    def aggregate_array(self, property: str) -> List:
        """The values of ``property`` over the images that have it."""
        return List([img._props[property] for img in self._images if property in img._props])

    def set(self, *args: Any) -> ImageCollection:
        """Set collection properties."""
        new = parse_set_args(args, "ImageCollection.set", evaluate=True)
        return ImageCollection(_images=self._images, properties={**self._props, **new})

    def get(self, property: str) -> Any:
        """A collection property."""
        from .image import _Value

        return _Value(self._props.get(property))

    # -- composites over time (logic in reducer.composites) ----------------------------------------
    def mean(self) -> Image:
        """Per-pixel mean over the images; band names kept."""
        return _composites.composite(self._images, "mean")

    def median(self) -> Image:
        """Per-pixel median over the images (mean of the middle two for an even count)."""
        return _composites.composite(self._images, "median")

    def min(self) -> Image:
        """Per-pixel minimum over the images."""
        return _composites.composite(self._images, "min")

    def max(self) -> Image:
        """Per-pixel maximum over the images."""
        return _composites.composite(self._images, "max")

    def sum(self) -> Image:
        """Per-pixel sum over the images (masked where no image is valid)."""
        return _composites.composite(self._images, "sum")

    def product(self) -> Image:
        """Per-pixel product over the images (masked where no image is valid)."""
        return _composites.composite(self._images, "product")

    def count(self) -> Image:
        """Per-pixel number of images with a valid value (0 where none)."""
        return _composites.composite(self._images, "count")

    def mode(self) -> Image:
        """Per-pixel most frequent value (ties go to the smallest)."""
        return _composites.composite(self._images, "mode")

    def mosaic(self) -> Image:
        """Per pixel, the last image in which the pixel is valid (later images on top)."""
        return _composites.mosaic(self._images)

    def qualityMosaic(self, qualityBand: str) -> Image:
        """Per pixel, all bands of the image with the highest ``qualityBand`` value."""
        return _composites.quality_mosaic(self._images, qualityBand)

    def reduce(self, reducer: Any, parallelScale: float = 1) -> Image:
        """Apply ``reducer`` over time per pixel; bands named ``<band>_<output>``."""
        return _composites.reduce(self._images, reducer)

    def toBands(self) -> Image:
        """Every band of every image, named ``<system:index>_<band>``."""
        return _composites.to_bands(self._images)

    # -- reductions -------------------------------------------------------------------------------
    @known_arguments("ImageCollection.reduceRegions")
    def reduceRegions(
        self,
        collection: Any,
        reducer: Any,
        scale: float | None = None,
        crs: Any = None,
        crsTransform: list[float] | None = None,
        tileScale: float = 1,
        maxPixelsPerRegion: float | None = None,
    ) -> Any:
        """Reduce every image over every feature: one feature per (image, feature).

        The same as ``ic.map(lambda i: i.reduceRegions(fc, r, scale).map(lambda f:
        f.set('system:time_start', i.get('system:time_start')))).flatten()``: ids are
        ``<image system:index>_<feature id>`` and each feature carries ``system:time_start`` and
        ``image_id``. Lazy; all images run in one dask graph when a result is asked for.
        """
        return self._reduce_regions(collection, reducer, scale, crs, crsTransform, per_image_ids=True)

    def _reduce_regions(
        self,
        collection: Any,
        reducer: Any,
        scale: float | None,
        crs: Any,
        crsTransform: list[float] | None,
        per_image_ids: bool,
    ) -> Any:
        from .features import FeatureCollection

        fc = collection if isinstance(collection, FeatureCollection) else FeatureCollection(collection)
        red = Reduction(self._images, fc, reducer, scale, crs, crsTransform, per_image_ids)
        return FeatureCollection._lazy(red.to_geodataframe, meta=red)

    def getRegion(
        self, geometry: Any, scale: float | None = None, crs: Any = None, crsTransform: list[float] | None = None
    ) -> List:
        """The pixel values of every image in ``geometry``, as Earth Engine's list of lists (lazy ``ee.List``).

        The first row is ``['id', 'longitude', 'latitude', 'time', <bands>...]``; then one row per
        (image, pixel): the image's ``system:index``, the pixel centre in EPSG:4326, the image's
        ``system:time_start`` in milliseconds (None without one) and the band values (None where
        masked). A polygon takes the pixels whose centre is inside it, a point the pixel that contains
        it; an image that does not cover the geometry gives no row. ``reducer.region_to_dataframe``
        turns the result into a DataFrame.

        Examples
        --------
        >>> import numpy as np, xarray as xr, rioxarray
        >>> from affine import Affine
        >>> from reducer import Geometry
        >>> arr = xr.DataArray(np.array([[1.0, 2.0], [3.0, 4.0]]), dims=("y", "x"))
        >>> arr = arr.rio.write_crs("EPSG:4326").rio.write_transform(Affine(1, 0, 10, 0, -1, 50))
        >>> ic = ImageCollection([Image(arr, time="2024-01-01"), Image(arr + 10, time="2024-02-01")])
        >>> ic.getRegion(Geometry.Point([11.5, 48.5])).getInfo()
        [['id', 'longitude', 'latitude', 'time', 'B1'],
         ['0', 11.5, 48.5, 1704067200000, 4.0],
         ['0', 11.5, 48.5, 1706745600000, 14.0]]
        """
        from .sampling import get_region

        return get_region(self._images, geometry, scale, crs, crsTransform)

    # -- evaluation -------------------------------------------------------------------------------
    def _evaluate(self) -> dict:
        return {
            "type": "ImageCollection",
            "bands": [],
            "features": [img._evaluate() for img in self._images],
            **({"properties": dict(self._props)} if self._props else {}),
        }


def _expand(item: Any) -> list:
    if isinstance(item, str | os.PathLike) and (_is_glob(str(item)) or Path(str(item)).is_dir()):
        return _paths_from(item)
    return [item]


def _footprint(img: Image) -> Any:
    import shapely
    from pyproj import Transformer

    stored = img._props.get("system:footprint")  # from metadata (a STAC item's geometry): no file needed
    if stored is not None:
        return _stored_footprint(stored)
    grid = img._grid
    if grid is None:
        return shapely.box(-180, -90, 180, 90)
    xmin, ymin, xmax, ymax = grid.bounds
    if grid.crs.to_epsg() == 4326:
        return shapely.box(xmin, ymin, xmax, ymax)
    tr = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    return shapely.box(*tr.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21))


def _stored_footprint(fp: Any) -> Any:
    """A ``system:footprint`` (GeoJSON in EPSG:4326, a shapely geometry or an ee.Geometry) as a shapely polygon."""
    import shapely
    import shapely.geometry

    if isinstance(fp, dict):
        geom = shapely.geometry.shape(fp)
    elif isinstance(fp, shapely.Geometry):
        geom = fp
    else:
        from .geometry import as_geometry

        geom = as_geometry(fp).to_shapely("EPSG:4326")
    if isinstance(geom, shapely.LinearRing):  # Earth Engine's footprints are rings: their inside counts
        geom = shapely.Polygon(geom)
    return geom


def _bounds_geometry(geometry: Any) -> Any:
    from .features import FeatureCollection
    from .geometry import Geometry

    if isinstance(geometry, FeatureCollection):
        gdf = geometry._gdf()
        return Geometry(gdf.geometry.to_crs("EPSG:4326").union_all())
    return geometry


class Reduction:
    """A planned reduction of images over features; computed once, on first use."""

    def __init__(self, images, fc, reducer, scale, crs, crsTransform, per_image_ids):  # noqa: D107
        self.images = tuple(images)
        self.fc = fc
        self.reducer = reducer
        self.scale, self.crs, self.crsTransform = scale, crs, crsTransform
        self.per_image_ids = per_image_ids
        self._lock = threading.Lock()
        self._result: Any = None

    def result(self) -> tuple[Any, list]:
        """``(features GeoDataFrame, [(columns, {name: values})] per image)``, computed once."""
        with self._lock:
            if self._result is None:
                from .engine import reduce_images

                gdf = self.fc._gdf()
                if gdf.crs is None:
                    from .errors import CRSError

                    raise CRSError("the features have no CRS. Set it with gdf.set_crs('EPSG:4326') and try again.")
                per_image = reduce_images(
                    self.images,
                    np.asarray(gdf.geometry.values, dtype=object),
                    gdf.crs,
                    self.reducer,
                    self.scale,
                    self.crs,
                    self.crsTransform,
                    "regions",
                )
                self._result = (gdf, per_image)
            return self._result

    def to_geodataframe(self) -> Any:
        """Long form: one row per (image, feature), image-major, as ``flatten`` orders them."""
        import geopandas as gpd

        gdf, per_image = self.result()
        frames = []
        for img, (columns, values) in zip(self.images, per_image, strict=True):
            part = gdf.copy()
            for c in columns:
                v = values[c.name]
                # NaN marks "no valid pixel"; getInfo turns it into None
                part[c.name] = v.astype("i8") if c.integer and not np.isnan(v).any() else v
            if self.per_image_ids:
                idx = str(img._props.get("system:index", ""))
                part["system:time_start"] = img._props.get("system:time_start")
                part["image_id"] = idx
                part.index = [f"{idx}_{fid}" for fid in gdf.index]
                part.index.name = gdf.index.name
            frames.append(part)
        if not frames:
            return gdf.iloc[0:0].copy()
        out = pd.concat(frames) if len(frames) > 1 else frames[0]
        return gpd.GeoDataFrame(out, geometry=gdf.geometry.name, crs=gdf.crs)
