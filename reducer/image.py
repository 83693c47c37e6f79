"""``ee.Image``: the Earth Engine facade over one :class:`~reducer.raster.Raster`.

An image holds one raster (named bands, each a lazy dask array on any grid, plus properties) and
delegates: band math and masks to :mod:`reducer.algebra`, expressions to :mod:`reducer.expression`,
sources to :mod:`reducer.sources`, sampling to :mod:`reducer.sampling` and reductions to
:mod:`reducer.regions`. Nothing here reads pixels; the engine does.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from . import algebra as _algebra
from . import neighborhood as _neighborhood
from .algebra import Projection
from .arguments import resolve_class
from .dates import Date, to_millis
from .errors import ArgumentError, DateError
from .expression import expression as _expression
from .features import FeatureCollection, reduced_regions
from .geometry import Geometry
from .neighborhood import Kernel
from .output import ImageInfo, image_info
from .pixels import raster_to_dataset
from .raster import Raster, constant_band, footprint, rename_bands, select_bands
from .reducers import Reducer
from .regions import PendingRegion
from .repr import image_html
from .sampling import sample, sample_regions
from .sources import open_raster
from .validate import known_arguments
from .values import ComputedObject, Dictionary, List, Number, String, parse_set_args, unwrap

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["Image"]


@resolve_class("Image", aliases={"__init__": {"args": "source"}})
class Image(ComputedObject):
    """An Earth Engine image over local rasters.

    Parameters
    ----------
    source
        A GeoTIFF/COG path, an ``xarray.DataArray`` with a CRS (dims ``(band, y, x)`` or ``(y, x)``),
        a number (a constant image), an ``ee.Image``, a :class:`~reducer.raster.Raster`, a list of
        any of these (their bands concatenated, as ``ee.Image([a, b])`` in Earth Engine), or a
        computed object that evaluates to one (``ee.Number(3)``, ``list.get(i)``,
        ``img.get('prop')`` for an image stored in a property).
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
    >>> Image([Image(1).rename("a"), 2]).bandNames().getInfo()
    ['a', 'constant']
    """

    __slots__ = ("_raster",)

    def __init__(self, source: Any = None, properties: dict | None = None, time: Any = None):
        if isinstance(source, Raster):
            raster = source
        elif isinstance(source, Image):
            raster = source.raster
        elif isinstance(source, int | float | np.number) and not isinstance(source, bool):
            raster = Raster((constant_band("constant", source),))
        elif source is None:
            raster = Raster()
        elif isinstance(source, str | os.PathLike) or _is_dataarray(source):
            raster = open_raster(source)
        elif isinstance(source, list | tuple) and source:
            first = Image(source[0])
            for other in source[1:]:
                first = first.addBands(Image(other))
            raster = first.raster
        else:
            raise ArgumentError(
                f"ee.Image({source!r}): expected a GeoTIFF path, an xarray.DataArray with a CRS, "
                "a number, an ee.Image or a list of them."
            )
        extra = dict(properties or {})
        if time is not None:
            extra["system:time_start"] = to_millis(time)
        if extra:
            raster = raster.updated(extra)
        object.__setattr__(self, "_raster", raster)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ee.Image is immutable; methods return new images")

    def __repr__(self) -> str:
        return f"ee.Image({self._raster.properties.get('system:index', '')!r}, bands={self._raster.names})"

    def _repr_html_(self) -> str:
        """Notebook repr: id, date, bands (type, grid) and properties; reads no pixel."""
        return image_html(self._raster)

    @property
    def raster(self) -> Raster:
        """The image's :class:`~reducer.raster.Raster`: its bands (lazy pixels) and properties."""
        return self._raster

    # -- metadata ---------------------------------------------------------------------------------
    def bandNames(self) -> List:
        """The band names, as an ``ee.List``."""
        return List(self._raster.names)

    def bandTypes(self) -> Dictionary:
        """Each band's source data type."""
        return Dictionary({b.name: b.dtype for b in self._raster.bands})

    def set(self, *args: Any) -> Image:
        """Set properties: ``set(key, value)``, ``set(key1, value1, key2, value2, …)`` or ``set(dict)``."""
        return Image(self._raster.updated(parse_set_args(args, "Image.set")))

    def geometry(self, maxError: Any = None, proj: Any = None, geodesics: Any = None) -> Geometry:
        """The image's footprint: a polygon in EPSG:4326 (the grid's bounds, or ``system:footprint``).

        A constant image has no bounds: its footprint is the whole world, as in Earth Engine.

        Examples
        --------
        >>> Image(1).geometry().bounds().getInfo()["coordinates"][0][:2]
        [[-180.0, -90.0], [180.0, -90.0]]
        """
        return Geometry(footprint(self._raster), "EPSG:4326", geodesic=False)

    def get(self, property: str) -> ComputedObject:
        """A property's value (``None`` when absent); ``system:footprint`` defaults to :meth:`geometry`."""
        value = self._raster.properties.get(property)
        if value is None and property == "system:footprint":
            return self.geometry()
        if isinstance(value, ComputedObject):  # an image or feature stored by a join: itself
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Number(value)
        if isinstance(value, str):
            return String(value)
        return ComputedObject._of(value)

    def getNumber(self, property: str) -> Number:
        """A numeric property."""
        return Number(self._raster.properties.get(property))

    def getString(self, property: str) -> String:
        """A string property."""
        return String(self._raster.properties.get(property))

    def propertyNames(self) -> List:
        """The property names."""
        return List(sorted(self._raster.properties))

    def toDictionary(self, properties: list[str] | None = None) -> Dictionary:
        """The properties as a dictionary."""
        props = self._raster.properties
        keys = properties if properties is not None else [k for k in props if not k.startswith("system:")]
        return Dictionary({k: props[k] for k in keys if k in props})

    def copyProperties(
        self, source: Any = None, properties: list[str] | None = None, exclude: list[str] | None = None
    ) -> Image:
        """Copy properties from another image or feature (not the ``system:`` ones unless named)."""
        src = _source_properties(source)
        keys = properties if properties is not None else [k for k in src if not k.startswith("system:")]
        keys = [k for k in keys if k not in set(exclude or ())]
        return Image(self._raster.updated({k: src[k] for k in keys if k in src}))

    def date(self) -> Date:
        """The image's ``system:time_start`` as an ``ee.Date``."""
        t = self._raster.properties.get("system:time_start")
        if t is None:
            raise DateError(
                f"image {self._raster.properties.get('system:index')!r} has no date (system:time_start). "
                "Give one with ee.Image(path, time=...) or .set('system:time_start', millis)."
            )
        return Date(t)

    def id(self) -> String:
        """The image's ``system:id`` (its path for a file)."""
        props = self._raster.properties
        return String(props.get("system:id", props.get("system:index")))

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
        selectors = [unwrap(sel) for sel in selectors]
        if new_names is not None:
            new_names = list(unwrap(new_names))
        return Image(select_bands(self._raster, selectors, new_names))

    def rename(self, *names: Any) -> Image:
        """Rename all bands: ``rename('a', 'b')`` or ``rename(['a', 'b'])``."""
        flat = list(unwrap(names[0])) if len(names) == 1 and isinstance(unwrap(names[0]), list | tuple) else list(names)
        return Image(rename_bands(self._raster, flat))

    def addBands(self, srcImg: Image, names: list[str] | None = None, overwrite: bool = False) -> Image:
        """Add bands of ``srcImg`` (or only ``names``), keeping this image's properties.

        ``srcImg`` may be a list of images (``addBands([a, b])``). With ``overwrite`` a band of
        ``srcImg`` replaces this image's band of the same name; without it the new band is renamed
        with a numerical suffix (``foo`` to ``foo_1`` unless ``foo_1`` exists, then ``foo_2``...),
        as Earth Engine does.

        Examples
        --------
        >>> Image(1).addBands(Image(2)).addBands(Image(3)).bandNames().getInfo()
        ['constant', 'constant_1', 'constant_2']
        >>> Image(1).addBands([Image(2).rename("a"), Image(3).rename("b")]).bandNames().getInfo()
        ['constant', 'a', 'b']
        """
        src = srcImg if isinstance(srcImg, Image) else Image(srcImg)
        if names is not None:
            src = src.select(list(names))
        bands = list(self._raster.bands)
        for b in src.raster.bands:
            existing = [i for i, x in enumerate(bands) if x.name == b.name]
            if existing and overwrite:
                bands[existing[0]] = b
            elif existing:
                taken = {x.name for x in bands}
                k = 1
                while f"{b.name}_{k}" in taken:
                    k += 1
                bands.append(rename_bands(Raster((b,)), [f"{b.name}_{k}"]).bands[0])
            else:
                bands.append(b)
        return Image(self._raster.with_bands(bands))

    # -- sampling (logic in reducer.sampling) -------------------------------------------------------
    def sampleRegions(
        self,
        collection: FeatureCollection | Any,
        properties: list[str] | None = None,
        scale: float | None = None,
        projection: Any = None,
        tileScale: float = 1,
        geometries: bool = False,
    ) -> FeatureCollection:
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
        fc = collection if isinstance(collection, FeatureCollection) else FeatureCollection(collection)
        return FeatureCollection._lazy(
            sample_regions(self._raster, fc._evaluate, properties, scale, projection, geometries)
        )

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
    ) -> FeatureCollection:
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
        return FeatureCollection._lazy(
            sample(self._raster, region, scale, projection, factor, numPixels, seed, dropNulls, geometries)
        )

    # -- reductions -------------------------------------------------------------------------------
    @known_arguments("Image.reduceRegion")
    def reduceRegion(
        self,
        reducer: Reducer,
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
        pending = PendingRegion(self._raster, reducer, geometry, scale, crs, crsTransform, bestEffort, maxPixels)
        return Dictionary._lazy(pending.value)

    @known_arguments("Image.reduceRegions")
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
        """Reduce each feature's region; returns the features with the outputs added (lazy)."""
        return reduced_regions([self._raster], collection, reducer, scale, crs, crsTransform, False, maxPixelsPerRegion)

    # -- pixels out (logic in reducer.pixels) ------------------------------------------------------
    def to_xarray(
        self,
        region: Any = None,
        scale: float | None = None,
        crs: Any = None,
        crsTransform: list[float] | None = None,
    ) -> xr.Dataset:
        """The image's pixels as a lazy ``xarray.Dataset``: one ``(y, x)`` float64 variable per band.

        The grid follows ``reduceRegion``'s rules (the image's own grid, or the one ``scale``, ``crs``
        or ``crsTransform`` asks for), cropped to the bounding box of ``region``. Masked pixels are
        NaN. The CRS and transform are set for rioxarray (``ds.rio.crs``, ``ds.rio.transform()``,
        ``ds.rio.to_raster(path)``). Nothing is read until the Dataset is computed.

        Examples
        --------
        >>> import numpy as np, xarray as xr, rioxarray
        >>> from affine import Affine
        >>> arr = xr.DataArray(np.array([[1.0, 2.0], [3.0, np.nan]]), dims=("y", "x"))
        >>> img = Image(arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 20)))
        >>> ds = img.multiply(2).to_xarray()
        >>> ds["B1"].values.tolist(), ds.rio.crs.to_epsg(), ds.rio.transform().a
        ([[2.0, 4.0], [6.0, nan]], 32633, 10.0)
        """
        return raster_to_dataset(self._raster, region, scale, crs, crsTransform)

    # -- band math (logic in reducer.algebra) -------------------------------------------------------
    def add(self, image2: Any) -> Image:
        """Add ``image2`` (an image or a number) band by band; see :mod:`reducer.algebra` for matching."""
        return Image(_algebra.binary("add", self._raster, _operand(image2)))

    def subtract(self, image2: Any) -> Image:
        """Subtract ``image2`` band by band."""
        return Image(_algebra.binary("subtract", self._raster, _operand(image2)))

    def multiply(self, image2: Any) -> Image:
        """Multiply by ``image2`` band by band."""
        return Image(_algebra.binary("multiply", self._raster, _operand(image2)))

    def divide(self, image2: Any) -> Image:
        """Divide by ``image2`` band by band (0 where ``image2`` is 0, as Earth Engine)."""
        return Image(_algebra.binary("divide", self._raster, _operand(image2)))

    def pow(self, image2: Any) -> Image:
        """Raise to the power ``image2`` band by band."""
        return Image(_algebra.binary("pow", self._raster, _operand(image2)))

    def mod(self, image2: Any) -> Image:
        """The remainder of dividing by ``image2`` (the sign of the dividend; 0 where ``image2`` is 0)."""
        return Image(_algebra.binary("mod", self._raster, _operand(image2)))

    def min(self, image2: Any) -> Image:
        """The smaller of the two values, band by band."""
        return Image(_algebra.binary("min", self._raster, _operand(image2)))

    def max(self, image2: Any) -> Image:
        """The larger of the two values, band by band."""
        return Image(_algebra.binary("max", self._raster, _operand(image2)))

    def atan2(self, image2: Any) -> Image:
        """The angle of the vector (``image2``, this), band by band."""
        return Image(_algebra.binary("atan2", self._raster, _operand(image2)))

    def hypot(self, image2: Any) -> Image:
        """The length of the vector (this, ``image2``), band by band."""
        return Image(_algebra.binary("hypot", self._raster, _operand(image2)))

    def gt(self, image2: Any) -> Image:
        """1 where this is greater than ``image2``, else 0."""
        return Image(_algebra.binary("gt", self._raster, _operand(image2)))

    def gte(self, image2: Any) -> Image:
        """1 where this is greater than or equal to ``image2``, else 0."""
        return Image(_algebra.binary("gte", self._raster, _operand(image2)))

    def lt(self, image2: Any) -> Image:
        """1 where this is less than ``image2``, else 0."""
        return Image(_algebra.binary("lt", self._raster, _operand(image2)))

    def lte(self, image2: Any) -> Image:
        """1 where this is less than or equal to ``image2``, else 0."""
        return Image(_algebra.binary("lte", self._raster, _operand(image2)))

    def eq(self, image2: Any) -> Image:
        """1 where this equals ``image2``, else 0."""
        return Image(_algebra.binary("eq", self._raster, _operand(image2)))

    def neq(self, image2: Any) -> Image:
        """1 where this differs from ``image2``, else 0."""
        return Image(_algebra.binary("neq", self._raster, _operand(image2)))

    def And(self, image2: Any) -> Image:
        """1 where both values are non-zero, else 0."""
        return Image(_algebra.binary("and", self._raster, _operand(image2)))

    def Or(self, image2: Any) -> Image:
        """1 where either value is non-zero, else 0."""
        return Image(_algebra.binary("or", self._raster, _operand(image2)))

    def Not(self) -> Image:
        """1 where the value is 0, else 0."""
        return Image(_algebra.unary("not", self._raster))

    def bitwiseAnd(self, image2: Any) -> Image:
        """The bitwise AND of the integer values (e.g. ``qa.bitwiseAnd(1 << 10)``)."""
        return Image(_algebra.binary("bitwiseAnd", self._raster, _operand(image2)))

    def bitwiseOr(self, image2: Any) -> Image:
        """The bitwise OR of the integer values."""
        return Image(_algebra.binary("bitwiseOr", self._raster, _operand(image2)))

    def bitwiseXor(self, image2: Any) -> Image:
        """The bitwise XOR of the integer values."""
        return Image(_algebra.binary("bitwiseXor", self._raster, _operand(image2)))

    def bitwiseNot(self) -> Image:
        """The bitwise NOT of the integer values."""
        return Image(_algebra.unary("bitwiseNot", self._raster))

    def leftShift(self, image2: Any) -> Image:
        """The integer values shifted left by ``image2`` bits."""
        return Image(_algebra.binary("leftShift", self._raster, _operand(image2)))

    def rightShift(self, image2: Any) -> Image:
        """The integer values shifted right (signed) by ``image2`` bits."""
        return Image(_algebra.binary("rightShift", self._raster, _operand(image2)))

    def abs(self) -> Image:
        """The absolute value."""
        return Image(_algebra.unary("abs", self._raster))

    def sqrt(self) -> Image:
        """The square root (masked where negative)."""
        return Image(_algebra.unary("sqrt", self._raster))

    def exp(self) -> Image:
        """Euler's number to the power of the value."""
        return Image(_algebra.unary("exp", self._raster))

    def log(self) -> Image:
        """The natural logarithm (masked where negative)."""
        return Image(_algebra.unary("log", self._raster))

    def log10(self) -> Image:
        """The base-10 logarithm (masked where negative)."""
        return Image(_algebra.unary("log10", self._raster))

    def round(self) -> Image:
        """The nearest integer (halves round up, as Earth Engine's Java ``Math.round``)."""
        return Image(_algebra.unary("round", self._raster))

    def floor(self) -> Image:
        """The largest integer not greater than the value."""
        return Image(_algebra.unary("floor", self._raster))

    def ceil(self) -> Image:
        """The smallest integer not less than the value."""
        return Image(_algebra.unary("ceil", self._raster))

    def sin(self) -> Image:
        """The sine (radians)."""
        return Image(_algebra.unary("sin", self._raster))

    def cos(self) -> Image:
        """The cosine (radians)."""
        return Image(_algebra.unary("cos", self._raster))

    def tan(self) -> Image:
        """The tangent (radians)."""
        return Image(_algebra.unary("tan", self._raster))

    def asin(self) -> Image:
        """The arc sine, in radians."""
        return Image(_algebra.unary("asin", self._raster))

    def acos(self) -> Image:
        """The arc cosine, in radians."""
        return Image(_algebra.unary("acos", self._raster))

    def atan(self) -> Image:
        """The arc tangent, in radians."""
        return Image(_algebra.unary("atan", self._raster))

    def normalizedDifference(self, bandNames: list[str] | None = None) -> Image:
        """``(first − second) / (first + second)`` as band ``nd`` (masked where an input is negative)."""
        return Image(_algebra.normalized_difference(self._raster, bandNames))

    def expression(self, expression: str, map: dict | None = None, **kwargs: Any) -> Image:
        """Evaluate an Earth Engine expression such as ``'(NIR - RED) / (NIR + RED)'`` (parsed, never eval'd).

        See :mod:`reducer.expression` for the language and the output band names.
        """
        variables = kwargs.pop("opt_map", map)
        if isinstance(variables, ComputedObject) and not isinstance(variables, Image):
            variables = unwrap(variables)
        if isinstance(variables, dict):
            variables = {k: _operand(v) for k, v in variables.items()}
        return Image(_expression(self._raster, expression, variables, **kwargs))

    # -- pixel operations (logic in reducer.algebra) -------------------------------------------------
    def clamp(self, low: float, high: float) -> Image:
        """Clamp every band's values to ``[low, high]``."""
        return Image(_algebra.clamp(self._raster, low, high))

    def unitScale(self, low: float, high: float) -> Image:
        """``(x − low) / (high − low)`` on every band (not clamped; floating point)."""
        return Image(_algebra.unit_scale(self._raster, low, high))

    def remap(
        self,
        from_: list[float] | None = None,
        to: list[float] | None = None,
        defaultValue: float | None = None,
        bandName: str | None = None,
        **kwargs: Any,
    ) -> Image:
        """Map one band's values through the parallel lists ``from``/``to``; one band named ``remapped``.

        ``from`` is a Python keyword: pass it by position, or as ``**{'from': [...]}``.

        Examples
        --------
        >>> Image(2).remap([1, 2], [10, 20]).bandNames().getInfo()
        ['remapped']
        """
        if "from" in kwargs:
            from_ = kwargs.pop("from")
        if kwargs:
            raise ArgumentError(
                f"Image.remap: unknown argument(s) {sorted(kwargs)!r}; use from, to, defaultValue, bandName."
            )
        return Image(_algebra.remap(self._raster, from_, to, defaultValue, bandName))

    def interpolate(self, x: list[float], y: list[float], behavior: str = "extrapolate") -> Image:
        """The first band through the piecewise-linear function ``x`` → ``y``."""
        return Image(_algebra.interpolate(self._raster, x, y, behavior))

    # -- neighbourhoods (logic in reducer.neighborhood) ---------------------------------------------
    def reduceNeighborhood(
        self,
        reducer: Reducer,
        kernel: Kernel,
        inputWeight: str = "kernel",
        skipMasked: bool = True,
        optimization: str | None = None,
    ) -> Image:
        """Apply ``reducer`` to each pixel's neighbourhood under ``kernel`` (bands ``<band>_<output>``).

        Examples
        --------
        >>> from reducer import Reducer
        >>> Image(1).reduceNeighborhood(Reducer.max(), Kernel.square(1)).bandNames().getInfo()
        ['constant_max']
        """
        return Image(
            _neighborhood.reduce_neighborhood(self._raster, reducer, kernel, inputWeight, skipMasked, optimization)
        )

    def focalMin(
        self,
        radius: float = 1.5,
        kernelType: str = "circle",
        units: str = "pixels",
        iterations: int = 1,
        kernel: Kernel | None = None,
    ) -> Image:
        """The minimum of each pixel's neighbourhood (morphological erosion); band names kept."""
        return Image(_neighborhood.focal(self._raster, "min", radius, kernelType, units, iterations, kernel))

    def focalMax(
        self,
        radius: float = 1.5,
        kernelType: str = "circle",
        units: str = "pixels",
        iterations: int = 1,
        kernel: Kernel | None = None,
    ) -> Image:
        """The maximum of each pixel's neighbourhood (morphological dilation); band names kept."""
        return Image(_neighborhood.focal(self._raster, "max", radius, kernelType, units, iterations, kernel))

    def focalMean(
        self,
        radius: float = 1.5,
        kernelType: str = "circle",
        units: str = "pixels",
        iterations: int = 1,
        kernel: Kernel | None = None,
    ) -> Image:
        """The (kernel-weighted) mean of each pixel's neighbourhood; band names kept."""
        return Image(_neighborhood.focal(self._raster, "mean", radius, kernelType, units, iterations, kernel))

    def focalMedian(
        self,
        radius: float = 1.5,
        kernelType: str = "circle",
        units: str = "pixels",
        iterations: int = 1,
        kernel: Kernel | None = None,
    ) -> Image:
        """The median of each pixel's neighbourhood; band names kept."""
        return Image(_neighborhood.focal(self._raster, "median", radius, kernelType, units, iterations, kernel))

    def focalMode(
        self,
        radius: float = 1.5,
        kernelType: str = "circle",
        units: str = "pixels",
        iterations: int = 1,
        kernel: Kernel | None = None,
    ) -> Image:
        """The most frequent value of each pixel's neighbourhood; band names kept."""
        return Image(_neighborhood.focal(self._raster, "mode", radius, kernelType, units, iterations, kernel))

    def directionalDistanceTransform(self, angle: float, maxDistance: int, labelBand: str | None = None) -> Image:
        """The distance (pixels) from each zero pixel to the nearest non-zero pixel at ``angle`` degrees.

        See :func:`reducer.neighborhood.directional_distance_transform` for the conventions.
        """
        return Image(_neighborhood.directional_distance_transform(self._raster, angle, maxDistance, labelBand))

    # -- masks (logic in reducer.algebra) -----------------------------------------------------------
    def updateMask(self, mask: Any) -> Image:
        """Mask the pixels where ``mask`` is 0 or masked (one mask band for all, or one per band)."""
        return Image(_algebra.update_mask(self._raster, _operand(mask)))

    def mask(self, mask: Any = None) -> Image:
        """Without ``mask``: 1 where valid and 0 where masked, per band. With it: replace the mask."""
        if mask is None:
            return Image(_algebra.get_mask(self._raster))
        return Image(_algebra.set_mask(self._raster, _operand(mask)))

    def selfMask(self) -> Image:
        """Mask the pixels whose value is 0."""
        return Image(_algebra.self_mask(self._raster))

    def unmask(self, value: Any = None, sameFootprint: bool = True) -> Image:
        """Fill masked pixels with ``value`` (0 by default; a number or an image)."""
        return Image(_algebra.unmask(self._raster, _operand(value), sameFootprint))

    def where(self, test: Any, value: Any) -> Image:
        """Replace the pixels where ``test`` is non-zero with ``value``."""
        return Image(_algebra.where(self._raster, _operand(test), _operand(value)))

    def clip(self, geometry: Any) -> Image:
        """Mask the pixels whose centre is outside ``geometry``."""
        return Image(_algebra.clip(self._raster, geometry))

    # -- generated images (logic in reducer.algebra) ------------------------------------------------
    @staticmethod
    def constant(value: Any) -> Image:
        """A constant image (``constant``, or ``constant_0``, ``constant_1``, ... for a list)."""
        return Image(_algebra.constant(value))

    def metadata(self, property: str, name: str | None = None) -> Image:
        """A constant image of a numeric property (band named ``name``, or after the property)."""
        return Image(_algebra.metadata(self._raster, property, name))

    @staticmethod
    def pixelArea() -> Image:
        """One band ``area``: each pixel's area in square metres."""
        return Image(_algebra.pixel_area())

    @staticmethod
    def pixelLonLat() -> Image:
        """Bands ``longitude`` and ``latitude`` of each pixel's centre, in degrees."""
        return Image(_algebra.pixel_lon_lat())

    # -- casts (logic in reducer.algebra) -----------------------------------------------------------
    def cast(self, bandTypes: dict, bandOrder: list[str] | None = None) -> Image:
        """Cast the named bands (``{'B4': 'float'}``), optionally reordering them."""
        return Image(_algebra.cast_bands(self._raster, bandTypes, bandOrder))

    def toFloat(self) -> Image:
        """Cast to 32-bit floats."""
        return Image(_algebra.cast(self._raster, "float"))

    def toDouble(self) -> Image:
        """Cast to 64-bit floats."""
        return Image(_algebra.cast(self._raster, "double"))

    def toInt(self) -> Image:
        """Cast to signed 32-bit integers (truncating, saturating)."""
        return Image(_algebra.cast(self._raster, "int32"))

    def toInt8(self) -> Image:
        """Cast to signed 8-bit integers."""
        return Image(_algebra.cast(self._raster, "int8"))

    def toInt16(self) -> Image:
        """Cast to signed 16-bit integers."""
        return Image(_algebra.cast(self._raster, "int16"))

    def toInt32(self) -> Image:
        """Cast to signed 32-bit integers."""
        return Image(_algebra.cast(self._raster, "int32"))

    def toInt64(self) -> Image:
        """Cast to signed 64-bit integers."""
        return Image(_algebra.cast(self._raster, "int64"))

    def toLong(self) -> Image:
        """Cast to signed 64-bit integers."""
        return Image(_algebra.cast(self._raster, "int64"))

    def toUint8(self) -> Image:
        """Cast to unsigned 8-bit integers."""
        return Image(_algebra.cast(self._raster, "uint8"))

    def toByte(self) -> Image:
        """Cast to unsigned 8-bit integers."""
        return Image(_algebra.cast(self._raster, "uint8"))

    def toUint16(self) -> Image:
        """Cast to unsigned 16-bit integers."""
        return Image(_algebra.cast(self._raster, "uint16"))

    def toUint32(self) -> Image:
        """Cast to unsigned 32-bit integers."""
        return Image(_algebra.cast(self._raster, "uint32"))

    # -- projection (logic in reducer.algebra) ------------------------------------------------------
    def projection(self) -> Projection:
        """The default projection (an ``ee.Projection``: ``crs()``, ``nominalScale()``, ``transform()``)."""
        return _algebra.projection(self._raster)

    def reproject(self, crs: Any, crsTransform: list[float] | None = None, scale: float | None = None) -> Image:
        """Compute the image on the grid of ``crs`` with ``scale`` metres or ``crsTransform``."""
        return Image(_algebra.reproject(self._raster, crs, crsTransform, scale))

    def resample(self, mode: str = "bilinear") -> Image:
        """Read the file bands with ``'bilinear'`` or ``'bicubic'`` interpolation off their own grid."""
        return Image(_algebra.resample(self._raster, mode))

    # -- evaluation -------------------------------------------------------------------------------
    def _evaluate(self) -> ImageInfo:
        return image_info(self._raster)

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
    focal_min = focalMin
    focal_max = focalMax
    focal_mean = focalMean
    focal_median = focalMedian
    focal_mode = focalMode


def _is_dataarray(x: Any) -> bool:
    return type(x).__name__ == "DataArray" and hasattr(x, "dims")


def _operand(x: Any) -> Any:
    """An image argument as the algebra takes it: an image's raster; numbers and lists as they are."""
    return x.raster if isinstance(x, Image) else x


def _source_properties(source: Any) -> dict[str, Any]:
    """The properties of an image or feature that ``copyProperties`` copies from."""
    if isinstance(source, Image):
        return dict(source.raster.properties)
    to_dict = getattr(source, "toDictionary", None)
    if to_dict is None:
        return {}
    return dict(unwrap(to_dict()) or {})
