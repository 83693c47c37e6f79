"""``ee.Join``: Earth Engine's joins of two collections (images or features) under a filter condition.

A join pairs each element of the ``primary`` collection with the elements of the ``secondary`` one
that pass ``condition``: an ``ee.Filter`` whose ``leftField`` reads the primary element and whose
``rightField`` reads the secondary one (``equals``, ``notEquals``, ``lessThan``, ``greaterThan``, ...,
``maxDifference``, ``withinDistance`` on ``'.geo'``, and ``And``/``Or``/``Not`` of them). The pairs
come from :func:`reducer.filters.join_pairs`; this module only lays the matches out as Earth Engine
does:

- ``simple()``: the primary elements with at least one match; ``inverted()``: those with none;
- ``inner(primaryKey, secondaryKey)``: a FeatureCollection with one geometry-less feature per match,
  holding the two elements in those properties;
- ``saveFirst(matchKey)`` / ``saveBest(matchKey, measureKey)`` / ``saveAll(matchesKey)``: the
  primary elements with their first / best / every match stored in a property (``outer=True``
  keeps primary elements without a match).

Joining image collections reads metadata only (properties and footprints), no pixel. The classic use
is Sentinel-2's cloud probability, stored with each image and read back with
``ee.Image(img.get('s2cloudless'))``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from .collection import ImageCollection
from .errors import ArgumentError
from .features import Feature, FeatureCollection
from .filters import Filter, check_join_condition, join_pairs
from .geometry import Geometry
from .image import Image
from .raster import footprint
from .values import ComputedObject, List, unwrap

__all__ = ["Join"]

JoinKind = Literal["simple", "inverted", "inner", "saveFirst", "saveAll", "saveBest"]
SomeCollection = ImageCollection | FeatureCollection

INDEX = "system:index"


class Join(ComputedObject):
    """``ee.Join``: how to lay out the matches of two collections; :meth:`apply` runs it.

    Examples
    --------
    >>> from reducer import Feature, FeatureCollection, Filter
    >>> a = FeatureCollection([Feature(None, {"k": k}) for k in (1, 2, 3)])
    >>> b = FeatureCollection([Feature(None, {"k": k, "v": 10 * k}) for k in (2, 3, 3)])
    >>> on_k = Filter.equals(leftField="k", rightField="k")
    >>> Join.simple().apply(a, b, on_k).aggregate_array("k").getInfo()
    [2, 3]
    >>> Join.inverted().apply(a, b, on_k).aggregate_array("k").getInfo()
    [1]
    >>> Join.inner().apply(a, b, on_k).size().getInfo()
    3
    >>> saved = Join.saveFirst("match").apply(a, b, on_k)
    >>> [m["properties"]["v"] for m in saved.aggregate_array("match").getInfo()]
    [20, 30]
    """

    __slots__ = ("_kind", "_params")

    def __init__(self, *args: Any, **kwargs: Any):
        raise ArgumentError(
            "ee.Join(...) cannot be built directly. Use ee.Join.simple(), inverted(), inner(), "
            "saveFirst('key'), saveAll('key') or saveBest('key', 'measure')."
        )

    @classmethod
    def _make(cls, kind: JoinKind, **params: Any) -> Join:
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_kind", kind)
        object.__setattr__(obj, "_params", dict(params))
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ee.Join is immutable")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items() if v is not None)
        return f"ee.Join.{self._kind}({args})"

    def _evaluate(self) -> dict:
        return {"type": "Join", "name": self._kind, "args": {k: v for k, v in self._params.items()}}

    # -- constructors -------------------------------------------------------------------------
    @staticmethod
    def simple() -> Join:
        """The primary elements that match at least one secondary element."""
        return Join._make("simple")

    @staticmethod
    def inverted() -> Join:
        """The primary elements that match no secondary element."""
        return Join._make("inverted")

    @staticmethod
    def inner(primaryKey: str = "primary", secondaryKey: str = "secondary", measureKey: str | None = None) -> Join:
        """One feature (no geometry) per matching pair, with the two elements in ``primaryKey`` and ``secondaryKey``.

        ``measureKey`` stores the condition's measure (``maxDifference``'s difference,
        ``withinDistance``'s distance) on the feature.
        """
        return Join._make("inner", primaryKey=str(primaryKey), secondaryKey=str(secondaryKey), measureKey=measureKey)

    @staticmethod
    def saveFirst(
        matchKey: str,
        ordering: str | None = None,
        ascending: bool = True,
        measureKey: str | None = None,
        outer: bool = False,
    ) -> Join:
        """Each primary element with its first match (after sorting by ``ordering``) in property ``matchKey``.

        ``measureKey`` stores the measure on the saved match; ``outer=True`` keeps primary elements
        without a match (without the property).
        """
        return Join._make(
            "saveFirst",
            matchKey=str(matchKey),
            ordering=ordering,
            ascending=bool(ascending),
            measureKey=measureKey,
            outer=bool(outer),
        )

    @staticmethod
    def saveAll(
        matchesKey: str,
        ordering: str | None = None,
        ascending: bool = True,
        measureKey: str | None = None,
        outer: bool = False,
    ) -> Join:
        """Each primary element with the list of its matches (sorted by ``ordering``) in property ``matchesKey``."""
        return Join._make(
            "saveAll",
            matchKey=str(matchesKey),
            ordering=ordering,
            ascending=bool(ascending),
            measureKey=measureKey,
            outer=bool(outer),
        )

    @staticmethod
    def saveBest(matchKey: str, measureKey: str, outer: bool = False) -> Join:
        """Each primary element with the match of the smallest measure (distance, difference) in ``matchKey``.

        The condition must have a measure: ``maxDifference``, ``withinDistance`` (or ``And``/``Or``
        with one of them).
        """
        return Join._make("saveBest", matchKey=str(matchKey), measureKey=str(measureKey), outer=bool(outer))

    # -- apply --------------------------------------------------------------------------------
    def apply(self, primary: SomeCollection, secondary: SomeCollection, condition: Filter) -> SomeCollection:
        """Join ``primary`` with ``secondary`` under ``condition``; the result is a collection like ``primary``.

        (``inner`` gives a FeatureCollection.) Image collections are joined on their metadata only.
        """
        _check_collection(primary, "primary")
        _check_collection(secondary, "secondary")
        if not isinstance(condition, Filter):
            raise ArgumentError(
                f"Join.apply: the condition must be an ee.Filter such as "
                f"ee.Filter.equals(leftField='system:index', rightField='system:index'), got {condition!r}."
            )
        check_join_condition(condition)
        if self._kind == "saveBest" and not _has_measure(condition):
            raise ArgumentError(
                f"Join.saveBest: the condition {condition!r} has no measure. Use ee.Filter.maxDifference or "
                "ee.Filter.withinDistance, whose difference or distance is the measure."
            )
        if isinstance(primary, ImageCollection) and self._kind != "inner":
            return self._apply_images(primary, secondary, condition)
        return FeatureCollection._lazy(lambda: self._frame(primary, secondary, condition))

    def _matches(
        self, primary: SomeCollection, secondary: SomeCollection, condition: Filter
    ) -> tuple[list[list[int]], np.ndarray | None, _Side]:
        """Per primary element, the indices of its matches in the order the join keeps them."""
        p, s = _side(primary), _side(secondary)
        ok, measure = join_pairs(condition, p.table, p.geoms, s.table, s.geoms)
        if self._kind == "saveBest" and measure is None:
            raise ArgumentError(
                f"Join.saveBest: the condition {condition!r} has no measure. Use ee.Filter.maxDifference or "
                "ee.Filter.withinDistance, whose difference or distance is the measure."
            )
        ordering = self._params.get("ordering")
        keys = None
        if ordering is not None:
            keys = _sort_keys(s.table, str(unwrap(ordering)))
        out: list[list[int]] = []
        for i in range(len(p.table)):
            js = [int(j) for j in np.flatnonzero(ok[i])]
            if self._kind == "saveBest" and js and measure is not None:
                js = [min(js, key=lambda j: (measure[i, j], j))]
            elif keys is not None:
                present = [j for j in js if keys[j] is not None]
                missing = [j for j in js if keys[j] is None]
                present.sort(key=lambda j: keys[j], reverse=not self._params.get("ascending", True))
                js = present + missing
            out.append(js)
        return out, measure, s

    def _apply_images(self, primary: ImageCollection, secondary: SomeCollection, condition: Filter) -> ImageCollection:
        matches, measure, s = self._matches(primary, secondary, condition)
        kept = []
        for i, (raster, js) in enumerate(zip(primary.rasters, matches, strict=True)):
            if self._kind == "simple":
                if js:
                    kept.append(raster)
                continue
            if self._kind == "inverted":
                if not js:
                    kept.append(raster)
                continue
            if not js:
                if self._params.get("outer"):
                    kept.append(raster)
                continue
            kept.append(raster.updated({self._params["matchKey"]: self._saved(s, i, js, measure)}))
        return ImageCollection(kept)

    def _saved(self, s: _Side, i: int, js: list[int], measure: np.ndarray | None) -> Any:
        key = self._params.get("measureKey")

        def element(j: int) -> Any:
            extra = {key: _number(measure[i, j])} if key and measure is not None else {}
            return s.element(j, extra)

        if self._kind == "saveAll":
            return List([element(j) for j in js])
        return element(js[0])

    def _frame(self, primary: SomeCollection, secondary: SomeCollection, condition: Filter) -> Any:
        import geopandas as gpd

        matches, measure, s = self._matches(primary, secondary, condition)
        p = _side(primary)
        if self._kind == "inner":
            feats = []
            key = self._params.get("measureKey")
            for i, js in enumerate(matches):
                for j in js:
                    props = {self._params["primaryKey"]: p.element(i), self._params["secondaryKey"]: s.element(j)}
                    if key and measure is not None:
                        props[key] = _number(measure[i, j])
                    feats.append(Feature(None, props))
            return FeatureCollection(feats)._evaluate()
        gdf: gpd.GeoDataFrame = p.frame
        if self._kind in ("simple", "inverted"):
            keep = [bool(js) == (self._kind == "simple") for js in matches]
            return gdf[np.asarray(keep, dtype=bool)]
        keep = [bool(js) or bool(self._params.get("outer")) for js in matches]
        values = [self._saved(s, i, js, measure) if js else None for i, js in enumerate(matches)]
        out = gdf.copy()
        out[self._params["matchKey"]] = pd.Series(values, index=out.index, dtype=object)
        return out[np.asarray(keep, dtype=bool)]


class _Side:
    """One side of a join: the filter table, the geometries (EPSG:4326) and a way to build each element."""

    def __init__(self, table: pd.DataFrame, geoms: Any, element: Any, frame: Any = None):
        self.table = table
        self.geoms = geoms
        self.element = element
        self.frame = frame


def _side(collection: SomeCollection) -> _Side:
    import geopandas as gpd

    if isinstance(collection, ImageCollection):
        rasters = list(collection.rasters)
        table = pd.DataFrame([dict(r.properties) for r in rasters], index=range(len(rasters)))
        geoms = gpd.GeoSeries([footprint(r) for r in rasters], crs="EPSG:4326")

        def image(j: int, extra: dict | None = None) -> Image:
            r = rasters[j]
            return Image(r.updated(extra) if extra else r)

        return _Side(table, geoms, image)
    gdf = collection._evaluate()
    table = pd.DataFrame(gdf.drop(columns="geometry"))
    table.insert(0, INDEX, np.asarray(gdf.index, dtype=object))
    table.index = range(len(table))
    crs = gdf.crs
    geoms = gdf.geometry.reset_index(drop=True)

    def feature(j: int, extra: dict | None = None) -> Feature:
        row = table.iloc[j].to_dict()
        props = {k: _plain(v) for k, v in row.items() if k != INDEX}
        props.update(extra or {})
        props[INDEX] = str(row[INDEX])
        shape = gdf.geometry.iloc[j]
        geom = None if shape is None or shape.is_empty else Geometry(shape, crs.to_string() if crs else None)
        return Feature(geom, props)

    return _Side(table, geoms, feature, gdf)


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def _number(v: Any) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _sort_keys(table: pd.DataFrame, name: str) -> list[Any]:
    if name not in table.columns:
        return [None] * len(table)
    return [_plain(v) for v in table[name].tolist()]


def _has_measure(condition: Filter) -> bool:
    """Whether the condition gives a measure per pair (tried on one empty pair)."""
    empty = pd.DataFrame(index=range(0))
    _, measure = join_pairs(condition, empty, None, empty, None)
    return measure is not None


def _check_collection(c: Any, which: str) -> None:
    if not isinstance(c, ImageCollection | FeatureCollection):
        raise ArgumentError(
            f"Join.apply: the {which} collection must be an ee.ImageCollection or ee.FeatureCollection, got {c!r}."
        )
