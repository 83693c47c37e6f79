"""``ee.ImageCollection``: the Earth Engine facade over a sequence of :class:`~reducer.raster.Raster` objects.

Filtering, sorting and mapping work on metadata and lazy expressions only. ``reduceRegions``
reduces every image over every feature in one dask graph, when a result is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from . import composites as _composites
from .errors import ArgumentError
from .features import FeatureCollection
from .filters import Filter, filter_mask
from .geometry import Geometry, as_geometry
from .image import Image
from .output import ImageCollectionInfo, collection_info, long_frame
from .raster import Raster
from .reducers import Reducer
from .regions import reduce_regions
from .sampling import get_region
from .sources import expands, open_collection, raster_paths, rasters_from_stac, rasters_from_xarray
from .validate import known_arguments
from .values import ComputedObject, List, Number, parse_set_args, unwrap

__all__ = ["ImageCollection"]


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

    __slots__ = ("_rasters", "_props")

    def __init__(self, source: Any = None, properties: dict | None = None):
        if isinstance(source, ImageCollection):
            rasters = list(source.rasters)
        elif source is None:
            rasters = []
        elif isinstance(source, str | os.PathLike) or type(source).__name__ in ("DataArray", "Dataset"):
            rasters = open_collection(source)
        elif isinstance(source, list | tuple):
            rasters = [_raster(x) for item in source for x in _expand(item)]
        else:
            raise ArgumentError(
                f"ee.ImageCollection({source!r}): expected a glob, a folder, a list of paths or ee.Images, "
                "or an xarray object with a time dimension."
            )
        object.__setattr__(self, "_rasters", tuple(rasters))
        object.__setattr__(self, "_props", dict(properties or {}))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ee.ImageCollection is immutable; methods return new collections")

    def __repr__(self) -> str:
        return f"ee.ImageCollection(<{len(self._rasters)} images>)"

    @property
    def rasters(self) -> tuple[Raster, ...]:
        """The collection's images as :class:`~reducer.raster.Raster` objects, in order."""
        return self._rasters

    def _with(self, rasters: Sequence[Raster]) -> ImageCollection:
        return ImageCollection(list(rasters), properties=self._props)

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
        return ImageCollection(rasters_from_stac(items_or_catalog, assets, bands, apply_scale))

    @staticmethod
    def fromXarray(ds: Any, time: str = "time", bands: Sequence[str] | None = None) -> ImageCollection:
        """One image per time step of an xarray Dataset (NetCDF, Zarr, ...) with a CRS (see :mod:`reducer.cube`).

        Each ``(time, y, x)`` variable (or those in ``bands``) is a band. The CRS comes from rioxarray's
        ``ds.rio.crs`` or a ``spatial_ref``/``crs`` grid-mapping variable. Pixels are lazy slices of the
        cube's own chunks: nothing is read, and nothing is rechunked along time.
        """
        return ImageCollection(rasters_from_xarray(ds, time, bands))

    # -- metadata ---------------------------------------------------------------------------------
    def _table(self) -> tuple[pd.DataFrame, Any]:
        import geopandas as gpd

        table = pd.DataFrame([dict(r.properties) for r in self._rasters], index=range(len(self._rasters)))
        footprints = gpd.GeoSeries([_footprint(r) for r in self._rasters], crs="EPSG:4326")
        return table, footprints

    def filter(self, filter: Filter) -> ImageCollection:
        """Keep the images that pass ``filter`` (metadata only)."""
        if not isinstance(filter, Filter):
            raise ArgumentError(f"ImageCollection.filter: expected an ee.Filter, got {filter!r}.")
        if not self._rasters:
            return self
        table, footprints = self._table()
        keep = np.asarray(filter_mask(filter, table, footprints), dtype=bool)
        return self._with([r for r, k in zip(self._rasters, keep, strict=True) if k])

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
        for r in self._rasters:
            res = algorithm(Image(r))
            if res is None and opt_dropNulls:
                continue
            if not isinstance(res, Image):
                raise ArgumentError(f"ImageCollection.map: the function returned {res!r}; it must return an ee.Image.")
            out.append(res.raster)
        return self._with(out)

    def select(self, *selectors: Any, **kwargs: Any) -> ImageCollection:
        """Select bands of every image (same arguments as ``Image.select``)."""
        return self._with([Image(r).select(*selectors, **kwargs).raster for r in self._rasters])

    def sort(self, property: str, ascending: bool = True) -> ImageCollection:
        """Sort by a property; images without it go last."""
        keyed = [(r.properties.get(property), i, r) for i, r in enumerate(self._rasters)]
        present = sorted([k for k in keyed if k[0] is not None], key=lambda k: (k[0], k[1]), reverse=not ascending)
        missing = [k for k in keyed if k[0] is None]
        return self._with([k[2] for k in present + missing])

    def limit(self, max: int, property: str | None = None, ascending: bool = True) -> ImageCollection:
        """The first ``max`` images, optionally after sorting by ``property``."""
        ic = self.sort(property, ascending) if property else self
        return self._with(ic.rasters[: int(unwrap(max))])

    def first(self) -> Image:
        """The first image."""
        if not self._rasters:
            raise ArgumentError("ImageCollection.first: the collection is empty. Check the filters.")
        return Image(self._rasters[0])

    def size(self) -> Number:
        """The number of images."""
        return Number(len(self._rasters))

    def toList(self, count: int, offset: int = 0) -> List:
        """Up to ``count`` images from ``offset``, as an ``ee.List``."""
        return List([Image(r) for r in self._rasters[int(offset) : int(offset) + int(count)]])

    def merge(self, collection2: ImageCollection) -> ImageCollection:
        """Merge: the images of this collection, then those of ``collection2``."""
        return self._with(list(self._rasters) + list(ImageCollection(collection2).rasters))

    def aggregate_array(self, property: str) -> List:
        """The values of ``property`` over the images that have it."""
        return List([r.properties[property] for r in self._rasters if property in r.properties])

    def set(self, *args: Any) -> ImageCollection:
        """Set collection properties."""
        new = parse_set_args(args, "ImageCollection.set", evaluate=True)
        return ImageCollection(list(self._rasters), properties={**self._props, **new})

    def get(self, property: str) -> Any:
        """A collection property."""
        return ComputedObject._of(self._props.get(property))

    # -- composites over time (logic in reducer.composites) ----------------------------------------
    def mean(self) -> Image:
        """Per-pixel mean over the images; band names kept."""
        return Image(_composites.composite(self._rasters, "mean"))

    def median(self) -> Image:
        """Per-pixel median over the images (mean of the middle two for an even count)."""
        return Image(_composites.composite(self._rasters, "median"))

    def min(self) -> Image:
        """Per-pixel minimum over the images."""
        return Image(_composites.composite(self._rasters, "min"))

    def max(self) -> Image:
        """Per-pixel maximum over the images."""
        return Image(_composites.composite(self._rasters, "max"))

    def sum(self) -> Image:
        """Per-pixel sum over the images (masked where no image is valid)."""
        return Image(_composites.composite(self._rasters, "sum"))

    def product(self) -> Image:
        """Per-pixel product over the images (masked where no image is valid)."""
        return Image(_composites.composite(self._rasters, "product"))

    def count(self) -> Image:
        """Per-pixel number of images with a valid value (0 where none)."""
        return Image(_composites.composite(self._rasters, "count"))

    def mode(self) -> Image:
        """Per-pixel most frequent value (ties go to the smallest)."""
        return Image(_composites.composite(self._rasters, "mode"))

    def mosaic(self) -> Image:
        """Per pixel, the last image in which the pixel is valid (later images on top)."""
        return Image(_composites.mosaic(self._rasters))

    def qualityMosaic(self, qualityBand: str) -> Image:
        """Per pixel, all bands of the image with the highest ``qualityBand`` value."""
        return Image(_composites.quality_mosaic(self._rasters, qualityBand))

    def reduce(self, reducer: Reducer, parallelScale: float = 1) -> Image:
        """Apply ``reducer`` over time per pixel; bands named ``<band>_<output>``."""
        return Image(_composites.reduce(self._rasters, reducer))

    def toBands(self) -> Image:
        """Every band of every image, named ``<system:index>_<band>``."""
        return Image(_composites.to_bands(self._rasters))

    # -- reductions -------------------------------------------------------------------------------
    @known_arguments("ImageCollection.reduceRegions")
    def reduceRegions(
        self,
        collection: FeatureCollection | Any,
        reducer: Reducer,
        scale: float | None = None,
        crs: Any = None,
        crsTransform: list[float] | None = None,
        tileScale: float = 1,
        maxPixelsPerRegion: float | None = None,
    ) -> FeatureCollection:
        """Reduce every image over every feature: one feature per (image, feature).

        The same as ``ic.map(lambda i: i.reduceRegions(fc, r, scale).map(lambda f:
        f.set('system:time_start', i.get('system:time_start')))).flatten()``: ids are
        ``<image system:index>_<feature id>`` and each feature carries ``system:time_start`` and
        ``image_id``. Lazy; all images run in one dask graph when a result is asked for.
        """
        fc = collection if isinstance(collection, FeatureCollection) else FeatureCollection(collection)
        red = reduce_regions(
            self._rasters,
            fc._evaluate,
            reducer,
            scale,
            crs,
            crsTransform,
            per_image_ids=True,
            maxPixelsPerRegion=maxPixelsPerRegion,
        )
        return FeatureCollection._lazy(lambda: long_frame(red), meta=red)

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
        return List._lazy(get_region(self._rasters, geometry, scale, crs, crsTransform))

    # -- evaluation -------------------------------------------------------------------------------
    def _evaluate(self) -> ImageCollectionInfo:
        return collection_info(self._rasters, self._props)


def _expand(item: Any) -> list:
    return raster_paths(item) if expands(item) else [item]


def _raster(x: Any) -> Raster:
    """A list item of ``ee.ImageCollection([...])`` as a raster (an image, a raster, or what ``ee.Image`` takes)."""
    if isinstance(x, Raster):
        return x
    return (x if isinstance(x, Image) else Image(x)).raster


def _footprint(raster: Raster) -> Any:
    from pyproj import Transformer

    stored = raster.properties.get("system:footprint")  # from metadata (a STAC item's geometry): no file needed
    if stored is not None:
        return _stored_footprint(stored)
    grid = raster.grid
    if grid is None:
        return shapely.box(-180, -90, 180, 90)
    xmin, ymin, xmax, ymax = grid.bounds
    if grid.crs.to_epsg() == 4326:
        return shapely.box(xmin, ymin, xmax, ymax)
    tr = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    return shapely.box(*tr.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21))


def _stored_footprint(fp: Any) -> Any:
    """A ``system:footprint`` (GeoJSON in EPSG:4326, a shapely geometry or an ee.Geometry) as a shapely polygon."""
    if isinstance(fp, dict):
        geom = shapely.geometry.shape(fp)
    elif isinstance(fp, shapely.Geometry):
        geom = fp
    else:
        geom = as_geometry(fp).to_shapely("EPSG:4326")
    if isinstance(geom, shapely.LinearRing):  # Earth Engine's footprints are rings: their inside counts
        geom = shapely.Polygon(geom)
    return geom


def _bounds_geometry(geometry: Any) -> Any:
    if isinstance(geometry, FeatureCollection):
        gdf = geometry._evaluate()
        return Geometry(gdf.geometry.to_crs("EPSG:4326").union_all())
    return geometry
