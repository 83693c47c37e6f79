"""``ee.Image``: named bands as lazy dask arrays, plus properties.

An image is a tuple of :class:`Band` objects. A band knows its native grid and how to produce
its pixels on any grid (``Band.on(grid)``): a file band reads blocks of its file, resampled
(nearest by default, as Earth Engine) when the grid is not its own. Masked pixels are NaN.
Nothing here reads pixels; the engine does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np

from .dates import Date, date_from_name, to_millis
from .errors import ArgumentError, BandError, CRSError
from .grid import Grid, norm_crs
from .sources import RasterioFileSource, pixel_dtype
from .validate import known_arguments
from .values import ComputedObject, Dictionary, List, Number, String, unwrap

__all__ = ["Image", "Band"]

PixelFn = Callable[[Grid, str], da.Array]


@dataclass(frozen=True)
class Band:
    """One band: its name, source dtype, native grid and pixel function.

    ``fn(grid, resampling)`` returns a 2-D float dask array on ``grid`` with NaN where masked;
    ``resampling`` is how a file band is resampled when ``grid`` is not its own.
    ``grid`` is None for a band with no projection of its own (a constant).
    """

    name: str
    dtype: str
    grid: Grid | None
    fn: PixelFn
    resampling: str = "nearest"

    def on(self, grid: Grid) -> da.Array:
        """Pixels on ``grid``."""
        return self.fn(grid, self.resampling)


def _resampled(array: da.Array, native: Grid) -> PixelFn:
    def fn(grid: Grid, resampling: str) -> da.Array:
        if grid == native:
            return array
        return reproject(array, native, grid, resampling)

    return fn


def reproject(array: da.Array, src: Grid, dst: Grid, resampling: str = "nearest") -> da.Array:
    """Resample a lazy 2-D array from grid ``src`` to grid ``dst`` (odc-geo, GDAL warp per block)."""
    import xarray as xr
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_coords, xr_reproject

    src_box = GeoBox(src.shape, src.transform, src.crs_wkt)
    dst_box = GeoBox(dst.shape, dst.transform, dst.crs_wkt)
    # geographic grids name their dims (latitude, longitude): take the GeoBox's own names
    x = xr.DataArray(array, coords=xr_coords(src_box), dims=src_box.dimensions)
    return xr_reproject(x, dst_box, resampling=resampling, dst_nodata=np.nan).data


def _constant_band(name: str, value: float) -> Band:
    dtype = "int64" if float(value).is_integer() and not isinstance(value, float) else "float64"

    def fn(grid: Grid, resampling: str) -> da.Array:
        from dask.base import tokenize

        # a name of our own: tokenizing da.full's arguments would pickle a function on every call
        return da.full(
            grid.shape, float(value), dtype="f8", chunks=1024, name=f"constant-{tokenize(float(value), grid.token())}"
        )

    return Band(name, dtype, None, fn)


class Image(ComputedObject):
    """An Earth Engine image over local rasters.

    Parameters
    ----------
    source
        A GeoTIFF/COG path, an ``xarray.DataArray`` with a CRS (dims ``(band, y, x)`` or ``(y, x)``),
        a number (a constant image), or an ``ee.Image``.
    properties
        Extra properties.
    time
        The acquisition time (anything ``ee.Date`` takes); by default the TIFF datetime tag,
        else a date in the file name.

    Examples
    --------
    >>> Image(5).bandNames().getInfo()
    ['constant']
    >>> Image(5).set("a", 1).get("a").getInfo()
    1
    """

    __slots__ = ("_bands", "_props")

    def __init__(
        self,
        source: Any = None,
        properties: dict | None = None,
        time: Any = None,
        *,
        _bands: tuple[Band, ...] | None = None,
    ):
        if _bands is not None:
            bands, props = _bands, dict(properties or {})
        elif isinstance(source, Image):
            bands, props = source._bands, {**source._props, **(properties or {})}
        elif isinstance(source, int | float | np.number) and not isinstance(source, bool):
            bands, props = (_constant_band("constant", source),), dict(properties or {})
        elif isinstance(source, str | os.PathLike):
            bands, props = _from_path(source)
            props.update(properties or {})
        elif _is_dataarray(source):
            bands, props = _from_dataarray(source)
            props.update(properties or {})
        elif source is None:
            bands, props = (), dict(properties or {})
        else:
            raise ArgumentError(
                f"ee.Image({source!r}): expected a GeoTIFF path, an xarray.DataArray with a CRS, "
                "a number or an ee.Image."
            )
        if time is not None:
            props["system:time_start"] = to_millis(time)
        object.__setattr__(self, "_bands", tuple(bands))
        object.__setattr__(self, "_props", props)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ee.Image is immutable; methods return new images")

    def __repr__(self) -> str:
        return f"ee.Image({self._props.get('system:index', '')!r}, bands={[b.name for b in self._bands]})"

    def _with(self, bands: Sequence[Band] | None = None, props: dict | None = None) -> Image:
        return Image(
            _bands=tuple(self._bands if bands is None else bands),
            properties=self._props if props is None else props,
        )

    # -- projection -------------------------------------------------------------------------------
    @property
    def _grid(self) -> Grid | None:
        """The default grid: the first band with a projection, as Earth Engine's default projection."""
        for b in self._bands:
            if b.grid is not None:
                return b.grid
        return None

    def _stack(self, grid: Grid) -> da.Array:
        """All bands on ``grid`` as one ``(band, y, x)`` dask array."""
        if not self._bands:
            raise BandError("this image has no bands: select or add bands before reducing it.")
        arrays = [b.on(grid) for b in self._bands]
        if len(arrays) == 1:
            return arrays[0][None]
        chunks = arrays[0].chunks
        arrays = [a if a.chunks == chunks else a.rechunk(chunks) for a in arrays]
        return da.stack(arrays)

    # -- metadata ---------------------------------------------------------------------------------
    def bandNames(self) -> List:
        """The band names, as an ``ee.List``."""
        return List([b.name for b in self._bands])

    def bandTypes(self) -> Dictionary:
        """Each band's source data type."""
        return Dictionary({b.name: b.dtype for b in self._bands})

    def set(self, *args: Any) -> Image:
        """Set properties: ``set(key, value)``, ``set(key1, value1, key2, value2, …)`` or ``set(dict)``."""
        props = dict(self._props)
        props.update(_kv(args, "Image.set"))
        return self._with(props=props)

    def get(self, property: str) -> ComputedObject:
        """A property's value (``None`` when absent)."""
        value = self._props.get(property)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Number(value)
        if isinstance(value, str):
            return String(value)
        return _Value(value)

    def getNumber(self, property: str) -> Number:
        """A numeric property."""
        return Number(self._props.get(property))

    def getString(self, property: str) -> String:
        """A string property."""
        return String(self._props.get(property))

    def propertyNames(self) -> List:
        """The property names."""
        return List(sorted(self._props))

    def toDictionary(self, properties: list[str] | None = None) -> Dictionary:
        """The properties as a dictionary."""
        keys = properties if properties is not None else [k for k in self._props if not k.startswith("system:")]
        return Dictionary({k: self._props[k] for k in keys if k in self._props})

    def copyProperties(
        self, source: Any = None, properties: list[str] | None = None, exclude: list[str] | None = None
    ) -> Image:
        """Copy properties from another image or feature (not the ``system:`` ones unless named)."""
        src = dict(getattr(source, "_props", None) or unwrap(getattr(source, "toDictionary", dict)()) or {})
        keys = properties if properties is not None else [k for k in src if not k.startswith("system:")]
        keys = [k for k in keys if k not in set(exclude or ())]
        props = dict(self._props)
        props.update({k: src[k] for k in keys if k in src})
        return self._with(props=props)

    def date(self) -> Date:
        """The image's ``system:time_start`` as an ``ee.Date``."""
        t = self._props.get("system:time_start")
        if t is None:
            from .errors import DateError

            raise DateError(
                f"image {self._props.get('system:index')!r} has no date (system:time_start). "
                "Give one with ee.Image(path, time=...) or .set('system:time_start', millis)."
            )
        return Date(t)

    def id(self) -> String:
        """The image's ``system:id`` (its path for a file)."""
        return String(self._props.get("system:id", self._props.get("system:index")))

    # -- bands ------------------------------------------------------------------------------------
    def select(self, *selectors: Any, **kwargs: Any) -> Image:
        """Select bands by name, regex, index or list of them, optionally renaming.

        ``select('B4')``, ``select(['B4', 'B8'], ['red', 'nir'])``, ``select('B.*')``, ``select(0)``,
        ``select('B4', 'B8')`` (varargs, as Earth Engine's client accepts).

        Examples
        --------
        >>> img = Image(1).addBands(Image(2).rename('b')).addBands(Image(3).rename('c'))
        >>> img.select(['b', 'c'], ['x', 'y']).bandNames().getInfo()
        ['x', 'y']
        >>> img.select('[bc]').bandNames().getInfo()
        ['b', 'c']
        >>> img.select('nope')
        Traceback (most recent call last):
        ...
        reducer.errors.BandError: Image.select: pattern 'nope' did not match any bands. Available: [...].
        """
        new_names = kwargs.pop("newNames", None)
        selectors = list(selectors)
        if "bandSelectors" in kwargs:
            selectors = [kwargs.pop("bandSelectors")]
        if kwargs:
            raise ArgumentError(f"Image.select: unknown argument(s) {sorted(kwargs)!r}; use bandSelectors, newNames.")
        if len(selectors) == 2 and isinstance(selectors[0], list | tuple) and isinstance(selectors[1], list | tuple):
            selectors, new_names = list(selectors[0]), list(selectors[1])
        elif len(selectors) == 1 and isinstance(selectors[0], list | tuple | List):
            selectors = list(unwrap(selectors[0]))
        names = [b.name for b in self._bands]
        picked: list[int] = []
        for sel in selectors:
            sel = unwrap(sel)
            if isinstance(sel, int | np.integer) and not isinstance(sel, bool):
                if not -len(names) <= sel < len(names):
                    raise BandError(f"Image.select: band index {sel} is out of range for bands {names!r}.")
                picked.append(int(sel) % len(names))
                continue
            if not isinstance(sel, str):
                raise BandError(f"Image.select: band selector {sel!r} must be a name, a regex or an index.")
            hits = [i for i, n in enumerate(names) if n == sel] or [
                i for i, n in enumerate(names) if re.fullmatch(sel, n)
            ]
            if not hits:
                raise BandError(f"Image.select: pattern {sel!r} did not match any bands. Available: {names!r}.")
            picked.extend(hits)
        bands = [self._bands[i] for i in picked]
        if new_names is not None:
            new_names = [str(n) for n in unwrap(new_names)]
            if len(new_names) != len(bands):
                raise BandError(
                    f"Image.select: {len(new_names)} new names {new_names!r} for {len(bands)} selected bands "
                    f"{[b.name for b in bands]!r}. Give one name per band."
                )
            bands = [replace(b, name=n) for b, n in zip(bands, new_names, strict=True)]
        return self._with(bands)

    def rename(self, *names: Any) -> Image:
        """Rename all bands: ``rename('a', 'b')`` or ``rename(['a', 'b'])``."""
        flat = list(unwrap(names[0])) if len(names) == 1 and isinstance(unwrap(names[0]), list | tuple) else list(names)
        if len(flat) != len(self._bands):
            raise BandError(
                f"Image.rename: {len(flat)} names {flat!r} for {len(self._bands)} bands "
                f"{[b.name for b in self._bands]!r}. Give one name per band."
            )
        return self._with([replace(b, name=str(n)) for b, n in zip(self._bands, flat, strict=True)])

    def addBands(self, srcImg: Image, names: list[str] | None = None, overwrite: bool = False) -> Image:
        """Add bands of ``srcImg`` (or only ``names``), keeping this image's properties.

        Without ``overwrite``, a band name that exists already is an error (as in Earth Engine).
        """
        src = srcImg if isinstance(srcImg, Image) else Image(srcImg)
        if names is not None:
            src = src.select(list(names))
        bands = list(self._bands)
        for b in src._bands:
            existing = [i for i, x in enumerate(bands) if x.name == b.name]
            if existing and not overwrite:
                raise BandError(
                    f"Image.addBands: band {b.name!r} exists already. Rename it first or pass overwrite=True."
                )
            if existing:
                bands[existing[0]] = b
            else:
                bands.append(b)
        return self._with(bands)

    # -- sampling (logic in reducer.sampling) -------------------------------------------------------
    def sampleRegions(
        self,
        collection: Any,
        properties: list[str] | None = None,
        scale: float | None = None,
        projection: Any = None,
        tileScale: float = 1,
        geometries: bool = False,
    ) -> Any:
        """One feature per valid pixel of each region, with the region's properties (lazy).

        A polygon takes the pixels whose centre is inside it, a point the pixel that contains it. Each
        feature has the ``properties`` of its region (all of them when None) and one property per band,
        named after the band; its id is ``<region id>_<k>`` for the region's k-th pixel. A pixel masked
        in any band is dropped, as in Earth Engine. With ``geometries=True`` each feature's geometry is
        the pixel centre (EPSG:4326 in ``getInfo()``), else None. ``scale`` and ``projection`` (a CRS)
        choose the grid as in ``reduceRegions``; ``tileScale`` is accepted and ignored.

        Examples
        --------
        >>> import numpy as np, xarray as xr, rioxarray
        >>> from affine import Affine
        >>> from reducer import FeatureCollection, Feature, Geometry
        >>> arr = xr.DataArray(np.array([[1.0, 2.0], [3.0, np.nan]]), dims=("y", "x"))
        >>> img = Image(arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 20)))
        >>> box = Geometry.Rectangle([0, 0, 20, 20], "EPSG:32633", False)
        >>> out = img.sampleRegions(FeatureCollection([Feature(box, {"id": "a"})]))
        >>> [(f["id"], f["properties"]) for f in out.getInfo()["features"]]  # the masked pixel is dropped
        [('0_0', {'B1': 1.0, 'id': 'a'}), ('0_1', {'B1': 2.0, 'id': 'a'}), ('0_2', {'B1': 3.0, 'id': 'a'})]
        """
        from .sampling import sample_regions

        return sample_regions(self, collection, properties, scale, projection, geometries)

    def sample(
        self,
        region: Any = None,
        scale: float | None = None,
        projection: Any = None,
        factor: float | None = None,
        numPixels: int | None = None,
        seed: int = 0,
        dropNulls: bool = True,
        tileScale: float = 1,
        geometries: bool = False,
    ) -> Any:
        """A random sample of pixels as features, one property per band (lazy, deterministic).

        The pixels are those of ``region`` (centre rule; the whole image when None). ``numPixels``
        picks that many of them at random (all when there are fewer), ``factor`` that fraction of them
        (rounded); neither takes all. The draw is ``numpy.random.default_rng(seed)`` without
        replacement, so the same call gives the same pixels. With ``dropNulls`` a pixel masked in any
        band is dropped after the draw, so fewer features may come back, as in Earth Engine. Ids are
        ``'0'``, ``'1'``, ... in pixel order; ``geometries=True`` gives each feature its pixel centre.

        Examples
        --------
        >>> import numpy as np, xarray as xr, rioxarray
        >>> from affine import Affine
        >>> arr = xr.DataArray(np.arange(16.0).reshape(4, 4), dims=("y", "x"))
        >>> img = Image(arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 40)))
        >>> img.sample(numPixels=3, seed=1).aggregate_array("B1").getInfo()
        [6.0, 7.0, 12.0]
        >>> img.sample(factor=0.5).size().getInfo()
        8
        """
        from .sampling import sample

        return sample(self, region, scale, projection, factor, numPixels, seed, dropNulls, geometries)

    # -- reductions -------------------------------------------------------------------------------
    @known_arguments("Image.reduceRegion")
    def reduceRegion(
        self,
        reducer: Any,
        geometry: Any = None,
        scale: float | None = None,
        crs: Any = None,
        crsTransform: list[float] | None = None,
        bestEffort: bool = False,
        maxPixels: float = 1e7,
        tileScale: float = 1,
    ) -> Dictionary:
        """Reduce the pixels of one region to a dictionary (lazy: nothing is read until ``getInfo``).

        A single-output reducer names each value after its band; several outputs give
        ``<band>_<output>``. ``maxPixels`` is enforced as Earth Engine enforces it, and
        ``bestEffort`` coarsens the scale until the region fits.
        """
        from .engine import reduce_region

        return Dictionary._lazy(
            lambda: reduce_region(self, reducer, geometry, scale, crs, crsTransform, bestEffort, maxPixels)
        )

    @known_arguments("Image.reduceRegions")
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
        """Reduce each feature's region; returns the features with the outputs added (lazy)."""
        from .collection import ImageCollection

        return ImageCollection([self])._reduce_regions(
            collection, reducer, scale, crs, crsTransform, per_image_ids=False
        )

    # -- band math (logic in reducer.algebra) -------------------------------------------------------
    def add(self, image2: Any) -> Image:
        """Add ``image2`` (an image or a number) band by band; see :mod:`reducer.algebra` for matching."""
        return _algebra.binary("add", self, image2)

    def subtract(self, image2: Any) -> Image:
        """Subtract ``image2`` band by band."""
        return _algebra.binary("subtract", self, image2)

    def multiply(self, image2: Any) -> Image:
        """Multiply by ``image2`` band by band."""
        return _algebra.binary("multiply", self, image2)

    def divide(self, image2: Any) -> Image:
        """Divide by ``image2`` band by band (0 where ``image2`` is 0, as Earth Engine)."""
        return _algebra.binary("divide", self, image2)

    def pow(self, image2: Any) -> Image:
        """Raise to the power ``image2`` band by band."""
        return _algebra.binary("pow", self, image2)

    def mod(self, image2: Any) -> Image:
        """The remainder of dividing by ``image2`` (the sign of the dividend; 0 where ``image2`` is 0)."""
        return _algebra.binary("mod", self, image2)

    def min(self, image2: Any) -> Image:
        """The smaller of the two values, band by band."""
        return _algebra.binary("min", self, image2)

    def max(self, image2: Any) -> Image:
        """The larger of the two values, band by band."""
        return _algebra.binary("max", self, image2)

    def atan2(self, image2: Any) -> Image:
        """The angle of the vector (``image2``, this), band by band."""
        return _algebra.binary("atan2", self, image2)

    def hypot(self, image2: Any) -> Image:
        """The length of the vector (this, ``image2``), band by band."""
        return _algebra.binary("hypot", self, image2)

    def gt(self, image2: Any) -> Image:
        """1 where this is greater than ``image2``, else 0."""
        return _algebra.binary("gt", self, image2)

    def gte(self, image2: Any) -> Image:
        """1 where this is greater than or equal to ``image2``, else 0."""
        return _algebra.binary("gte", self, image2)

    def lt(self, image2: Any) -> Image:
        """1 where this is less than ``image2``, else 0."""
        return _algebra.binary("lt", self, image2)

    def lte(self, image2: Any) -> Image:
        """1 where this is less than or equal to ``image2``, else 0."""
        return _algebra.binary("lte", self, image2)

    def eq(self, image2: Any) -> Image:
        """1 where this equals ``image2``, else 0."""
        return _algebra.binary("eq", self, image2)

    def neq(self, image2: Any) -> Image:
        """1 where this differs from ``image2``, else 0."""
        return _algebra.binary("neq", self, image2)

    def And(self, image2: Any) -> Image:
        """1 where both values are non-zero, else 0."""
        return _algebra.binary("and", self, image2)

    def Or(self, image2: Any) -> Image:
        """1 where either value is non-zero, else 0."""
        return _algebra.binary("or", self, image2)

    def Not(self) -> Image:
        """1 where the value is 0, else 0."""
        return _algebra.unary("not", self)

    def bitwiseAnd(self, image2: Any) -> Image:
        """The bitwise AND of the integer values (e.g. ``qa.bitwiseAnd(1 << 10)``)."""
        return _algebra.binary("bitwiseAnd", self, image2)

    def bitwiseOr(self, image2: Any) -> Image:
        """The bitwise OR of the integer values."""
        return _algebra.binary("bitwiseOr", self, image2)

    def bitwiseXor(self, image2: Any) -> Image:
        """The bitwise XOR of the integer values."""
        return _algebra.binary("bitwiseXor", self, image2)

    def bitwiseNot(self) -> Image:
        """The bitwise NOT of the integer values."""
        return _algebra.unary("bitwiseNot", self)

    def leftShift(self, image2: Any) -> Image:
        """The integer values shifted left by ``image2`` bits."""
        return _algebra.binary("leftShift", self, image2)

    def rightShift(self, image2: Any) -> Image:
        """The integer values shifted right (signed) by ``image2`` bits."""
        return _algebra.binary("rightShift", self, image2)

    def abs(self) -> Image:
        """The absolute value."""
        return _algebra.unary("abs", self)

    def sqrt(self) -> Image:
        """The square root (masked where negative)."""
        return _algebra.unary("sqrt", self)

    def exp(self) -> Image:
        """Euler's number to the power of the value."""
        return _algebra.unary("exp", self)

    def log(self) -> Image:
        """The natural logarithm (masked where negative)."""
        return _algebra.unary("log", self)

    def log10(self) -> Image:
        """The base-10 logarithm (masked where negative)."""
        return _algebra.unary("log10", self)

    def round(self) -> Image:
        """The nearest integer (halves round up, as Earth Engine's Java ``Math.round``)."""
        return _algebra.unary("round", self)

    def floor(self) -> Image:
        """The largest integer not greater than the value."""
        return _algebra.unary("floor", self)

    def ceil(self) -> Image:
        """The smallest integer not less than the value."""
        return _algebra.unary("ceil", self)

    def sin(self) -> Image:
        """The sine (radians)."""
        return _algebra.unary("sin", self)

    def cos(self) -> Image:
        """The cosine (radians)."""
        return _algebra.unary("cos", self)

    def tan(self) -> Image:
        """The tangent (radians)."""
        return _algebra.unary("tan", self)

    def asin(self) -> Image:
        """The arc sine, in radians."""
        return _algebra.unary("asin", self)

    def acos(self) -> Image:
        """The arc cosine, in radians."""
        return _algebra.unary("acos", self)

    def atan(self) -> Image:
        """The arc tangent, in radians."""
        return _algebra.unary("atan", self)

    def normalizedDifference(self, bandNames: list[str] | None = None) -> Image:
        """``(first − second) / (first + second)`` as band ``nd`` (masked where an input is negative)."""
        return _algebra.normalized_difference(self, bandNames)

    def expression(self, expression: str, map: dict | None = None, **kwargs: Any) -> Image:
        """Evaluate an Earth Engine expression such as ``'(NIR - RED) / (NIR + RED)'`` (parsed, never eval'd).

        See :mod:`reducer.expression` for the language and the output band names.
        """
        from .expression import expression as _expression

        return _expression(self, expression, kwargs.pop("opt_map", map), **kwargs)

    # -- masks (logic in reducer.algebra) -----------------------------------------------------------
    def updateMask(self, mask: Any) -> Image:
        """Mask the pixels where ``mask`` is 0 or masked (one mask band for all, or one per band)."""
        return _algebra.update_mask(self, mask)

    def mask(self, mask: Any = None) -> Image:
        """Without ``mask``: 1 where valid and 0 where masked, per band. With it: replace the mask."""
        return _algebra.get_mask(self) if mask is None else _algebra.set_mask(self, mask)

    def selfMask(self) -> Image:
        """Mask the pixels whose value is 0."""
        return _algebra.self_mask(self)

    def unmask(self, value: Any = None, sameFootprint: bool = True) -> Image:
        """Fill masked pixels with ``value`` (0 by default; a number or an image)."""
        return _algebra.unmask(self, value, sameFootprint)

    def where(self, test: Any, value: Any) -> Image:
        """Replace the pixels where ``test`` is non-zero with ``value``."""
        return _algebra.where(self, test, value)

    def clip(self, geometry: Any) -> Image:
        """Mask the pixels whose centre is outside ``geometry``."""
        return _algebra.clip(self, geometry)

    # -- generated images (logic in reducer.algebra) ------------------------------------------------
    @staticmethod
    def constant(value: Any) -> Image:
        """A constant image (``constant``, or ``constant_0``, ``constant_1``, ... for a list)."""
        return _algebra.constant(value)

    def metadata(self, property: str, name: str | None = None) -> Image:
        """A constant image of a numeric property (band named ``name``, or after the property)."""
        return _algebra.metadata(self, property, name)

    @staticmethod
    def pixelArea() -> Image:
        """One band ``area``: each pixel's area in square metres."""
        return _algebra.pixel_area()

    @staticmethod
    def pixelLonLat() -> Image:
        """Bands ``longitude`` and ``latitude`` of each pixel's centre, in degrees."""
        return _algebra.pixel_lon_lat()

    # -- casts (logic in reducer.algebra) -----------------------------------------------------------
    def cast(self, bandTypes: dict, bandOrder: list[str] | None = None) -> Image:
        """Cast the named bands (``{'B4': 'float'}``), optionally reordering them."""
        return _algebra.cast_bands(self, bandTypes, bandOrder)

    def toFloat(self) -> Image:
        """Cast to 32-bit floats."""
        return _algebra.cast(self, "float")

    def toDouble(self) -> Image:
        """Cast to 64-bit floats."""
        return _algebra.cast(self, "double")

    def toInt(self) -> Image:
        """Cast to signed 32-bit integers (truncating, saturating)."""
        return _algebra.cast(self, "int32")

    def toInt8(self) -> Image:
        """Cast to signed 8-bit integers."""
        return _algebra.cast(self, "int8")

    def toInt16(self) -> Image:
        """Cast to signed 16-bit integers."""
        return _algebra.cast(self, "int16")

    def toInt32(self) -> Image:
        """Cast to signed 32-bit integers."""
        return _algebra.cast(self, "int32")

    def toInt64(self) -> Image:
        """Cast to signed 64-bit integers."""
        return _algebra.cast(self, "int64")

    def toLong(self) -> Image:
        """Cast to signed 64-bit integers."""
        return _algebra.cast(self, "int64")

    def toUint8(self) -> Image:
        """Cast to unsigned 8-bit integers."""
        return _algebra.cast(self, "uint8")

    def toByte(self) -> Image:
        """Cast to unsigned 8-bit integers."""
        return _algebra.cast(self, "uint8")

    def toUint16(self) -> Image:
        """Cast to unsigned 16-bit integers."""
        return _algebra.cast(self, "uint16")

    def toUint32(self) -> Image:
        """Cast to unsigned 32-bit integers."""
        return _algebra.cast(self, "uint32")

    # -- projection (logic in reducer.algebra) ------------------------------------------------------
    def projection(self) -> Any:
        """The default projection (an ``ee.Projection``: ``crs()``, ``nominalScale()``, ``transform()``)."""
        return _algebra.projection(self)

    def reproject(self, crs: Any, crsTransform: list[float] | None = None, scale: float | None = None) -> Image:
        """Compute the image on the grid of ``crs`` with ``scale`` metres or ``crsTransform``."""
        return _algebra.reproject(self, crs, crsTransform, scale)

    def resample(self, mode: str = "bilinear") -> Image:
        """Read the file bands with ``'bilinear'`` or ``'bicubic'`` interpolation off their own grid."""
        return _algebra.resample(self, mode)

    # -- evaluation -------------------------------------------------------------------------------
    def _evaluate(self) -> dict:
        bands = []
        for b in self._bands:
            entry: dict[str, Any] = {
                "id": b.name,
                "data_type": {"type": "PixelType", "precision": _precision(b.dtype)},
            }
            if b.grid is not None:
                entry["crs"] = _crs_string(b.grid)
                entry["crs_transform"] = list(tuple(b.grid.transform)[:6])
                entry["dimensions"] = [b.grid.width, b.grid.height]
            else:
                entry["crs"] = "EPSG:4326"
                entry["crs_transform"] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
            bands.append(entry)
        out: dict[str, Any] = {"type": "Image", "bands": bands}
        if "system:id" in self._props:
            out["id"] = self._props["system:id"]
        if self._props:
            out["properties"] = dict(self._props)
        return out

    # Earth Engine's short cast names (assigned last: they shadow builtins inside the class body)
    float = toFloat
    double = toDouble
    int = toInt
    int8 = toInt8
    int16 = toInt16
    int32 = toInt32
    int64 = toInt64
    long = toLong
    uint8 = toUint8
    byte = toByte
    uint16 = toUint16
    uint32 = toUint32


class _Value(ComputedObject):
    __slots__ = ("_v",)

    def __init__(self, v: Any):
        object.__setattr__(self, "_v", v)

    def _evaluate(self) -> Any:
        return self._v


def _kv(args: tuple, where: str) -> dict:
    from .values import parse_set_args  # to move to the imports above with the rename to parse_set_args

    return parse_set_args(args, where, evaluate=True)


def _precision(dtype: str) -> str:
    kind = np.dtype(dtype).kind
    return "int" if kind in "iub" else ("double" if np.dtype(dtype).itemsize == 8 else "float")


def _crs_string(grid: Grid) -> str:
    epsg = grid.crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else grid.crs_wkt


def _is_dataarray(x: Any) -> bool:
    return type(x).__name__ == "DataArray" and hasattr(x, "dims")


def _from_path(path: str | os.PathLike) -> tuple[tuple[Band, ...], dict]:
    if not os.path.exists(str(path)):  # an Earth Engine id mapped in the catalog (reducer.catalog)?
        from .catalog import catalog_image

        mapped = catalog_image(str(path))
        if mapped is not None:
            return mapped._bands, dict(mapped._props)
    src = RasterioFileSource(path)
    bands = []
    for i, info in enumerate(src.bands):
        bands.append(Band(info.name, info.dtype, src.grid, _resampled(src.band_array(i), src.grid)))
    name = Path(str(path)).name
    stem = name.split(".")[0] if "." in name else name
    props: dict[str, Any] = {"system:index": stem, "system:id": str(path)}
    t = src.datetime_millis if src.datetime_millis is not None else date_from_name(name)
    if t is not None:
        props["system:time_start"] = t
    return tuple(bands), props


def _from_dataarray(arr: Any) -> tuple[tuple[Band, ...], dict]:
    import rioxarray  # noqa: F401  (registers .rio)

    crs = arr.rio.crs
    if crs is None:
        raise CRSError(
            "ee.Image(DataArray): the array has no CRS. Set it with `arr.rio.write_crs('EPSG:32633')` and try again."
        )
    transform = arr.rio.transform()
    if arr.ndim == 2:
        arr = arr.expand_dims("band")
    if arr.ndim != 3:
        raise BandError(f"ee.Image(DataArray): expected dims (band, y, x) or (y, x), got {arr.dims!r}.")
    band_dim = arr.dims[0]
    grid = Grid(norm_crs(crs), transform, arr.shape[2], arr.shape[1])
    nodata = arr.rio.nodata
    data = arr.data
    if not isinstance(data, da.Array):
        data = da.from_array(np.asarray(data), chunks=(1, 1024, 1024))
    out_dtype = pixel_dtype(arr.dtype)
    names = (
        [str(v) for v in arr[band_dim].values]
        if band_dim in arr.coords and arr[band_dim].dtype.kind in "OUS"
        else [f"B{i + 1}" for i in range(arr.shape[0])]
    )
    bands = []
    for i, name in enumerate(names):
        a = data[i].astype(out_dtype)
        if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
            a = da.where(data[i] == nodata, np.nan, a)
        bands.append(Band(name, str(arr.dtype), grid, _resampled(a, grid)))
    props: dict[str, Any] = {"system:index": str(arr.name) if arr.name is not None else "0"}
    if "time" in arr.coords and arr["time"].ndim == 0:
        props["system:time_start"] = to_millis(arr["time"].values)
    return tuple(bands), props


from . import algebra as _algebra  # noqa: E402  (algebra builds on Band and Image above)
