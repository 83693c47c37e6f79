"""``ee.ImageCollection``: the Earth Engine facade over a sequence of :class:`~reducer.raster.Raster` objects.

Filtering, sorting and mapping work on metadata and lazy expressions only. ``reduceRegions``
reduces every image over every feature in one dask graph, when a result is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import composites as _composites
from .arguments import resolve_class
from .daterange import DateRange
from .errors import ArgumentError
from .features import Feature, FeatureCollection, collection_of_collections, collection_of_features, reduced_regions
from .filters import Filter, filter_mask, parse_filter
from .geometry import Geometry
from .image import Image
from .output import ImageCollectionInfo, collection_info
from .pixels import rasters_to_dataset
from .raster import Raster, footprint
from .reducers import Reducer
from .regions import collect_pending, reduce_regions_jointly
from .repr import collection_html
from .sampling import get_region
from .sources import (
    expands,
    header_env,
    open_collection,
    raster_paths,
    rasters_from_stac,
    rasters_from_xarray,
    unique_indices,
)
from .validate import known_arguments
from .values import ComputedObject, Dictionary, List, Number, parse_set_args, to_info, unwrap

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["ImageCollection"]


@resolve_class("ImageCollection", aliases={"__init__": {"args": "source"}})
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
            items = [x for item in source for x in _expand(item)]
            with header_env(items):  # many file names: their headers are read in one GDAL environment
                rasters = [_raster(x) for x in items]
            if any(isinstance(item, str | os.PathLike) for item in source):  # file names: ids must be unique
                rasters = unique_indices(rasters)
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

    def _repr_html_(self) -> str:
        """Notebook repr: size, dates, bands, grids and images; reads no pixel."""
        return collection_html(self._rasters, self._props)

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
        footprints = gpd.GeoSeries([footprint(r) for r in self._rasters], crs="EPSG:4326")
        return table, footprints

    def filter(self, filter: Filter | str) -> ImageCollection:
        """Keep the images that pass ``filter`` (an ``ee.Filter`` or a filter string; metadata only)."""
        if isinstance(filter, str):
            filter = parse_filter(filter)
        if not isinstance(filter, Filter):
            raise ArgumentError(f"ImageCollection.filter: expected an ee.Filter, got {filter!r}.")
        if not self._rasters:
            return self
        table, footprints = self._table()
        keep = np.asarray(filter_mask(filter, table, footprints), dtype=bool)
        return self._with([r for r, k in zip(self._rasters, keep, strict=True) if k])

    def filterDate(self, start: Any, end: Any = None) -> ImageCollection:
        """Keep images with ``start <= system:time_start < end``; ``start`` may be an ``ee.DateRange``."""
        if isinstance(start, DateRange) and end is None:
            start, end = start.start(), start.end()
        return self.filter(Filter.date(start, end))

    def filterBounds(self, geometry: Any) -> ImageCollection:
        """Keep images whose footprint intersects ``geometry`` (a Geometry, Feature or FeatureCollection)."""
        return self.filter(Filter.bounds(_bounds_geometry(geometry)))

    def filterMetadata(self, name: str, operator: str, value: Any) -> ImageCollection:
        """Keep images whose property ``name`` passes ``operator`` against ``value``."""
        return self.filter(Filter.metadata(name, operator, value))

    def map(self, algorithm: Callable[[Image], Any], opt_dropNulls: bool = False) -> Any:
        """Apply ``algorithm`` to each image: a collection of whatever it returns (reads no pixel).

        - Images give an ``ImageCollection``;
        - Features (``lambda img: ee.Feature(point, img.reduceRegion(...))``) give a ``FeatureCollection``;
        - FeatureCollections (``lambda img: img.reduceRegions(fc, reducer, scale)``) give a collection
          of collections, which ``.flatten()`` joins: one feature per (image, feature), ids
          ``<image system:index>_<feature id>``, computed as one reduction over all images.

        As in Earth Engine, each result keeps the ``system:index`` of its image when ``algorithm``
        does not set one. With ``opt_dropNulls`` a ``None`` result is left out.

        Examples
        --------
        >>> from reducer import Feature
        >>> ic = ImageCollection([Image(1).set("system:index", "a"), Image(2).set("system:index", "b")])
        >>> ic.map(lambda i: i.multiply(10)).aggregate_array("system:index").getInfo()
        ['a', 'b']
        >>> fc = ic.map(lambda i: Feature(None, {"v": i.get("system:index")}))
        >>> fc.aggregate_array("system:index").getInfo(), fc.aggregate_array("v").getInfo()
        (['a', 'b'], ['a', 'b'])
        """
        if not callable(algorithm):
            raise ArgumentError(f"ImageCollection.map: expected a function, got {algorithm!r}.")
        results: list[tuple[str | None, Any]] = []
        with collect_pending() as pending:  # reduceRegion calls made by algorithm, computed jointly later
            mapped = [(r, algorithm(Image(r))) for r in self._rasters]
        for r, res in mapped:
            if res is None:
                if opt_dropNulls:
                    continue
                raise ArgumentError(
                    "ImageCollection.map: the function returned None. Return an ee.Image, an ee.Feature or an "
                    "ee.FeatureCollection, or pass opt_dropNulls=True."
                )
            index = r.properties.get("system:index")
            results.append((None if index is None else str(index), res))
        kinds = {_map_kind(res) for _, res in results}
        if len(kinds) > 1:
            raise ArgumentError(
                f"ImageCollection.map: the function returned a mix of {sorted(kinds)!r}; return the same kind "
                "(ee.Image, ee.Feature or ee.FeatureCollection) for every image."
            )
        kind = kinds.pop() if kinds else "Image"
        if kind == "Image":
            out = []
            for index, img in results:
                raster = img.raster
                if index is not None and "system:index" not in raster.properties:
                    raster = raster.updated({"system:index": index})
                out.append(raster)
            return self._with(out)
        if kind == "Feature":
            return collection_of_features(results, prepare=lambda: reduce_regions_jointly(pending))
        if kind == "FeatureCollection":
            return collection_of_collections(
                (str(i) if index is None else index, fc) for i, (index, fc) in enumerate(results)
            )
        bad = next(res for _, res in results if _map_kind(res) == kind)
        raise ArgumentError(
            f"ImageCollection.map: the function returned {bad!r}; it must return an ee.Image, an ee.Feature "
            "or an ee.FeatureCollection."
        )

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

    # -- properties as a table (the statistics are FeatureCollection's, through reducer.stats) --------
    def _property_features(self) -> FeatureCollection:
        """The images' properties as features, the footprints as geometries (ids: ``system:index``)."""
        rasters = self._rasters

        def run() -> Any:
            import geopandas as gpd

            props = [dict(r.properties) for r in rasters]
            ids = [p.get("system:index") for p in props]
            if any(i is None for i in ids) or len({str(i) for i in ids}) != len(ids):
                ids = [str(k) for k in range(len(props))]
            rows = [{k: v for k, v in p.items() if k != "system:index"} for p in props]
            table = pd.DataFrame(rows, index=range(len(rows)))
            geoms = gpd.GeoSeries([footprint(r) for r in rasters], crs="EPSG:4326", index=table.index)
            gdf = gpd.GeoDataFrame(table, geometry=geoms, crs="EPSG:4326")
            gdf.index = pd.Index([str(i) for i in ids], name="system:index", dtype=object)
            return gdf

        return FeatureCollection._lazy(run)

    def reduceColumns(self, reducer: Reducer, selectors: Any, weightSelectors: Any = None) -> Dictionary:
        """Reduce image properties with any reducer (see ``FeatureCollection.reduceColumns``).

        Examples
        --------
        >>> ic = ImageCollection([Image(1).set("cloud", c) for c in (10, 30, 20)])
        >>> ic.reduceColumns(Reducer.median(), ["cloud"]).getInfo()
        {'median': 20.0}
        """
        return self._property_features().reduceColumns(reducer, selectors, weightSelectors)

    def aggregate_stats(self, property: str) -> Dictionary:
        """Earth Engine's summary statistics of a property over the images (as ``FeatureCollection.aggregate_stats``).

        Examples
        --------
        >>> ic = ImageCollection([Image(1).set("cloud", c) for c in (10, 30, 20)])
        >>> s = ic.aggregate_stats("cloud").getInfo()
        >>> s["mean"], s["max"], s["valid_count"], s["sum_sq"]
        (20.0, 30.0, 3, 1400.0)
        """
        return self._property_features().aggregate_stats(property)

    def aggregate_count(self, property: str) -> Number:
        """The number of images with a non-null ``property``.

        Examples
        --------
        >>> ImageCollection([Image(1).set("c", 1), Image(2)]).aggregate_count("c").getInfo()
        1
        """
        return self._property_features().aggregate_count(property)

    def aggregate_count_distinct(self, property: str) -> Number:
        """The number of distinct non-null values of ``property``."""
        return self._property_features().aggregate_count_distinct(property)

    def aggregate_histogram(self, property: str) -> Dictionary:
        """How often each value of ``property`` occurs: ``{value: count}``.

        Examples
        --------
        >>> ic = ImageCollection([Image(1).set("tile", t) for t in ("a", "b", "a")])
        >>> ic.aggregate_histogram("tile").getInfo()
        {'a': 2, 'b': 1}
        """
        return self._property_features().aggregate_histogram(property)

    def aggregate_min(self, property: str) -> Number:
        """The minimum of ``property`` over the images (None when no image has it)."""
        return self._property_features().aggregate_min(property)

    def aggregate_max(self, property: str) -> Number:
        """The maximum of ``property`` over the images (None when no image has it)."""
        return self._property_features().aggregate_max(property)

    def aggregate_mean(self, property: str) -> Number:
        """The mean of ``property`` over the images (None when no image has it)."""
        return self._property_features().aggregate_mean(property)

    def aggregate_sum(self, property: str) -> Number:
        """The sum of ``property`` over the images (0 when no image has it)."""
        return self._property_features().aggregate_sum(property)

    def aggregate_product(self, property: str) -> Number:
        """The product of ``property`` over the images."""
        return self._property_features().aggregate_product(property)

    def aggregate_sample_sd(self, property: str) -> Number:
        """The sample standard deviation of ``property`` over the images."""
        return self._property_features().aggregate_sample_sd(property)

    def aggregate_sample_var(self, property: str) -> Number:
        """The sample variance of ``property`` over the images."""
        return self._property_features().aggregate_sample_var(property)

    def aggregate_total_sd(self, property: str) -> Number:
        """The population standard deviation of ``property`` over the images."""
        return self._property_features().aggregate_total_sd(property)

    def aggregate_total_var(self, property: str) -> Number:
        """The population variance of ``property`` over the images."""
        return self._property_features().aggregate_total_var(property)

    def aggregate_first(self, property: str) -> ComputedObject:
        """The first non-null value of ``property`` over the images."""
        return self._property_features().aggregate_first(property)

    def distinct(self, properties: Any) -> ImageCollection:
        """The first image of each distinct combination of ``properties`` (``'.geo'`` is the footprint).

        Metadata only. An image without one of the properties counts it as null.

        Examples
        --------
        >>> ic = ImageCollection([Image(v).set("tile", t) for v, t in ((1, "a"), (2, "b"), (3, "a"))])
        >>> ic.distinct("tile").aggregate_array("tile").getInfo()
        ['a', 'b']
        """
        sel = unwrap(properties)
        names = [sel] if isinstance(sel, str) else [str(unwrap(p)) for p in sel]
        seen: set[tuple] = set()
        kept = []
        for r in self._rasters:
            key = tuple(footprint(r).wkb if n == ".geo" else repr(to_info(r.properties.get(n))) for n in names)
            if key not in seen:
                seen.add(key)
                kept.append(r)
        return self._with(kept)

    def iterate(self, algorithm: Callable[[Image, Any], Any], first: Any = None) -> Any:
        """Fold ``algorithm(image, previous)`` over the images in order, starting from ``first``.

        The images are known (metadata only), so the fold runs now and builds lazy expressions; the
        result is what the last call returned (an ``ee.Image``, ``ee.List``, ...), or a computed
        object holding a plain value.

        Examples
        --------
        >>> ic = ImageCollection([Image(1).set("n", 2), Image(2).set("n", 5)])
        >>> ic.iterate(lambda img, acc: Number(acc).add(img.get("n")), 0).getInfo()
        7
        """
        acc = first
        for r in self._rasters:
            acc = algorithm(Image(r), acc)
        return acc if isinstance(acc, ComputedObject) else ComputedObject._of(acc)

    def set(self, *args: Any) -> ImageCollection:
        """Set collection properties."""
        new = parse_set_args(args, "ImageCollection.set")
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
        return reduced_regions(self._rasters, collection, reducer, scale, crs, crsTransform, True, maxPixelsPerRegion)

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

    # -- pixels out (logic in reducer.pixels) ------------------------------------------------------
    def to_xarray(
        self,
        region: Any = None,
        scale: float | None = None,
        crs: Any = None,
        crsTransform: list[float] | None = None,
    ) -> xr.Dataset:
        """The collection's pixels as a lazy ``xarray.Dataset`` with dims ``(time, y, x)``.

        One float64 variable per band (NaN where masked), ``time`` from each image's
        ``system:time_start``, and the images' scalar properties (``system:index``, ...) as coordinates
        along ``time``. Every image is put on one grid: the first image's, or the one ``scale``,
        ``crs`` or ``crsTransform`` asks for (``reduceRegion``'s rules), cropped to the bounding box of
        ``region``. The CRS and transform are set for rioxarray. Nothing is read until computed.

        Examples
        --------
        >>> import numpy as np, xarray as xr, rioxarray
        >>> from affine import Affine
        >>> arr = xr.DataArray(np.array([[1.0, 2.0], [3.0, 4.0]]), dims=("y", "x"))
        >>> arr = arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 20))
        >>> ic = ImageCollection([Image(arr, time="2024-01-01"), Image(arr + 10, time="2024-02-01")])
        >>> ds = ic.to_xarray()
        >>> ds["B1"].dims, ds["B1"].sel(x=15, y=5).values.tolist()
        (('time', 'y', 'x'), [4.0, 14.0])
        """
        return rasters_to_dataset(self._rasters, region, scale, crs, crsTransform)

    # -- evaluation -------------------------------------------------------------------------------
    def _evaluate(self) -> ImageCollectionInfo:
        return collection_info(self._rasters, self._props)


def _map_kind(result: Any) -> str:
    """What a mapped function returned: ``'Image'``, ``'Feature'``, ``'FeatureCollection'`` or its type's name."""
    for cls in (Image, Feature, FeatureCollection):
        if isinstance(result, cls):
            return cls.__name__
    return type(result).__name__


def _expand(item: Any) -> list:
    return raster_paths(item) if expands(item) else [item]


def _raster(x: Any) -> Raster:
    """A list item of ``ee.ImageCollection([...])`` as a raster (an image, a raster, or what ``ee.Image`` takes)."""
    if isinstance(x, Raster):
        return x
    return (x if isinstance(x, Image) else Image(x)).raster


def _bounds_geometry(geometry: Any) -> Any:
    if isinstance(geometry, FeatureCollection):
        gdf = geometry._evaluate()
        return Geometry(gdf.geometry.to_crs("EPSG:4326").union_all())
    return geometry
