"""The one-call functions rasterstats and exactextract users know, run on this engine.

- :func:`zonal_stats`: rasterstats' ``zonal_stats`` (its stat names, its list of dicts or GeoJSON
  features): centre-in pixels (or every touched pixel with ``all_touched=True``), each counted once.
- :func:`exact_extract`: exactextract's ``exact_extract`` (its op names, column names and
  ``pandas``/``geojson`` outputs): every pixel weighted by the fraction of it the polygon covers.

Both plan one reduction (:func:`reducer.regions.reduce_regions`) of every raster over every feature,
so many rasters and bands are read in one pass, block by block. Where they differ from the peers on
purpose (features are reprojected to the raster's CRS; a GDAL dataset mask is honoured), see
``docs/differences.md``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import ArgumentError, CRSError
from .features import FeatureCollection
from .image import Image
from .raster import Raster, select_bands
from .reducers import Reducer
from .regions import reduce_regions

__all__ = ["zonal_stats", "exact_extract", "RASTERSTATS_STATS", "EXACTEXTRACT_OPS"]

RASTERSTATS_STATS = (
    "count",
    "min",
    "max",
    "mean",
    "sum",
    "std",
    "median",
    "majority",
    "minority",
    "unique",
    "range",
    "percentile_<q>",
)
"""rasterstats' stat names that :func:`zonal_stats` computes (``nodata`` and ``nan`` are not supported)."""

EXACTEXTRACT_OPS = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "majority",
    "mode",
    "minority",
    "variety",
    "variance",
    "stdev",
    "coefficient_of_variation",
    "median",
    "quantile(q=<q>)",
    "frac",
    "unique",
)
"""exactextract's op names that :func:`exact_extract` computes."""


# -- inputs ---------------------------------------------------------------------------------------


def _frame(vectors: Any, layer: Any, where: str) -> Any:
    """The vectors as a GeoDataFrame (CRS may be None), rows in input order."""
    import geopandas as gpd
    from shapely.geometry import shape
    from shapely.geometry.base import BaseGeometry

    if isinstance(vectors, str | os.PathLike):
        kwargs = {} if layer in (None, 0) else {"layer": layer}
        return gpd.read_file(vectors, **kwargs)
    if isinstance(vectors, FeatureCollection):
        return vectors.to_geopandas()
    if isinstance(vectors, gpd.GeoSeries):
        return gpd.GeoDataFrame(geometry=vectors)
    if isinstance(vectors, gpd.GeoDataFrame):
        return vectors
    if isinstance(vectors, BaseGeometry | dict):
        vectors = [vectors]
    if isinstance(vectors, Sequence) and not isinstance(vectors, str):
        rows, geoms = [], []
        for v in vectors:
            if isinstance(v, BaseGeometry):
                rows.append({})
                geoms.append(v)
            elif isinstance(v, dict) and v.get("type") == "Feature":
                rows.append(dict(v.get("properties") or {}))
                geoms.append(shape(v["geometry"]) if v.get("geometry") else None)
            elif isinstance(v, dict) and "type" in v:
                rows.append({})
                geoms.append(shape(v))
            else:
                raise ArgumentError(
                    f"{where}: {v!r} is not a feature. Give shapely geometries, GeoJSON features or geometries."
                )
        return gpd.GeoDataFrame(pd.DataFrame(rows, index=range(len(geoms))), geometry=geoms)
    raise ArgumentError(
        f"{where}: vectors must be a vector file path, a GeoDataFrame, a FeatureCollection or a list of "
        f"GeoJSON features or shapely geometries, got {vectors!r}."
    )


def _raster(source: Any, where: str) -> Raster:
    if isinstance(source, Image):
        return source.raster
    if isinstance(source, Raster):
        return source
    if isinstance(source, str | os.PathLike):
        return Image(source).raster
    raise ArgumentError(f"{where}: {source!r} is not a raster. Give a GeoTIFF path or an ee.Image.")


def _with_crs(gdf: Any, raster: Raster) -> Any:
    """Vectors without a CRS are taken to be in the raster's CRS, as both peers take them."""
    if gdf.crs is not None:
        return gdf
    if raster.grid is None:
        raise CRSError("the vectors have no CRS and the raster has none either: set one with gdf.set_crs(...).")
    return gdf.set_crs(raster.grid.crs)


def _reduce(rasters: Sequence[Raster], gdf: Any, reducer: Reducer) -> list[dict[str, np.ndarray]]:
    """Each raster's ``{output column: values per feature}``, all in one reduction."""
    red = reduce_regions(list(rasters), lambda: gdf, reducer, per_image_ids=False)
    _, per_image = red.result()
    return [values for _, values in per_image]


# -- rasterstats ----------------------------------------------------------------------------------

_RS_ORDER = ("min", "max", "mean", "count", "sum", "std", "median", "majority", "minority", "unique", "range")
_RS_SIMPLE = {
    "count": Reducer.count,
    "min": Reducer.min,
    "max": Reducer.max,
    "mean": Reducer.mean,
    "sum": Reducer.sum,
    "std": Reducer.stdDev,
    "median": Reducer.median,
    "majority": Reducer.majority,
    "minority": Reducer.minority,
    "unique": Reducer.unique,
    "range": Reducer.range,
}


def _rs_stats(stats: str | Sequence[str] | None, categorical: bool) -> list[str]:
    if stats is None:
        return [] if categorical else ["count", "min", "max", "mean"]
    names = stats.split() if isinstance(stats, str) else list(stats)
    if "*" in names or "ALL" in names:
        raise NotImplementedError(
            "zonal_stats: stats='*' would include 'nodata' and 'nan', which reducer does not compute. "
            f"Name the stats you need from {list(RASTERSTATS_STATS)!r}."
        )
    for s in names:
        if s in ("nodata", "nan"):
            raise NotImplementedError(
                f"zonal_stats: the stat {s!r} (a count of the feature's nodata/NaN pixels) is not supported: "
                "reducer masks those pixels when it reads them. Use count over an unmasked image instead."
            )
        if s not in _RS_SIMPLE and not re.fullmatch(r"percentile_\d+(\.\d+)?", s):
            raise ArgumentError(f"zonal_stats: unknown stat {s!r}. Known: {list(RASTERSTATS_STATS)!r}.")
    return names


def _rs_reducer(names: list[str], categorical: bool, all_touched: bool) -> Reducer:
    parts: list[Reducer] = []
    for k, s in enumerate(names):
        if s.startswith("percentile_"):
            parts.append(Reducer.percentile([float(s[len("percentile_") :])], [f"_s{k}"]))
        else:
            parts.append(_RS_SIMPLE[s]().setOutputs([f"_s{k}"]))
    if categorical:
        parts.append(Reducer.frequencyHistogram().setOutputs(["_categories"]))
    reducer = parts[0]
    for p in parts[1:]:
        reducer = reducer.combine(p, sharedInputs=True)
    return reducer.all_touched() if all_touched else reducer.unweighted()


def _number(v: Any, integer: bool) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return int(v) if integer else float(v)


def zonal_stats(
    vectors: Any,
    raster: Any,
    stats: str | Sequence[str] | None = None,
    all_touched: bool = False,
    categorical: bool = False,
    prefix: str | None = None,
    geojson_out: bool = False,
    band: int = 1,
    layer: Any = 0,
) -> list[dict[str, Any]]:
    """The rasterstats ``zonal_stats``, computed by this engine.

    Parameters
    ----------
    vectors
        A vector file, a GeoDataFrame, a FeatureCollection, or GeoJSON features / shapely geometries
        (without a CRS they are taken to be in the raster's CRS, as rasterstats takes them).
    raster
        A raster path or an ``ee.Image``.
    stats
        rasterstats' names, a list or a space-separated string: ``count min max mean sum std median
        majority minority unique range percentile_<q>``; default ``count min max mean``.
    all_touched
        Every pixel the geometry touches instead of the pixels whose centre it contains.
    categorical
        Add ``{pixel value: count}`` entries for every distinct value.
    prefix
        Put before every key.
    geojson_out
        Return GeoJSON features with the feature's properties and the stats, instead of dicts.
    band
        The band, counting from 1.
    layer
        The layer of a multi-layer vector file.

    Returns
    -------
    list of dict
        One dict per feature, in order: ``count`` is an int (0 with no valid pixel), the other stats
        floats (None with no valid pixel), ``unique`` an int; categorical keys are pixel values.

    Examples
    --------
    >>> import numpy as np, xarray as xr, rioxarray, shapely
    >>> from affine import Affine
    >>> arr = xr.DataArray(np.arange(1.0, 10.0).reshape(3, 3), dims=("y", "x"))
    >>> img = Image(arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(1, 0, 0, 0, -1, 3)))
    >>> zonal_stats([shapely.box(0, 1, 2, 3), shapely.box(10, 10, 11, 11)], img, stats="count mean percentile_50")
    [{'mean': 3.0, 'count': 4, 'percentile_50': 3.0}, {'count': 0, 'mean': None, 'percentile_50': None}]
    """
    where = "zonal_stats"
    rast = _raster(raster, where)
    if isinstance(band, bool) or not isinstance(band, int) or not 1 <= band <= len(rast.bands):
        raise ArgumentError(f"{where}: band={band!r} must be a band number from 1 to {len(rast.bands)}.")
    rast = select_bands(rast, [band - 1])
    names = _rs_stats(stats, categorical)
    gdf = _with_crs(_frame(vectors, layer, where), rast)
    if not names and not categorical:
        raise ArgumentError(f"{where}: no stats asked for. Give stats= or categorical=True.")
    [values] = _reduce([rast], gdf, _rs_reducer(names, categorical, all_touched))
    integer_raster = np.dtype(rast.bands[0].dtype).kind in "iub"
    out: list[dict[str, Any]] = []
    for i in range(len(gdf)):
        row: dict[str, Any] = {}
        if categorical:
            hist = values["_categories"][i] or {}
            for key, n in sorted(hist.items(), key=lambda kv: float(kv[0])):
                v = float(key)
                row[int(v) if integer_raster else v] = int(round(n))
        stats_row = {s: _number(values[f"_s{k}"][i], s in ("count", "unique")) for k, s in enumerate(names)}
        valid = any(v is not None for s, v in stats_row.items() if s != "count") or bool(stats_row.get("count"))
        if "count" in stats_row and stats_row["count"] is None:
            stats_row["count"] = 0
        # rasterstats' key order: the stats as given when there is no valid pixel, else its fixed order
        order = (
            names if not valid else [s for s in _RS_ORDER if s in stats_row] + [s for s in names if s not in _RS_ORDER]
        )
        row.update({s: stats_row[s] for s in order})
        if prefix is not None:
            row = {f"{prefix}{k}": v for k, v in row.items()}
        out.append(row)
    if not geojson_out:
        return out
    import shapely

    feats = []
    props = gdf.drop(columns=gdf.geometry.name)
    for i, row in enumerate(out):
        geom = gdf.geometry.iloc[i]
        feats.append(
            {
                "type": "Feature",
                "id": str(gdf.index[i]),
                "properties": {**props.iloc[i].to_dict(), **row},
                "geometry": None if geom is None else shapely.geometry.mapping(geom),
            }
        )
    return feats


# -- exactextract ---------------------------------------------------------------------------------

_EE_SIMPLE = {
    "sum": Reducer.sum,
    "mean": Reducer.mean,
    "min": Reducer.min,
    "max": Reducer.max,
    "majority": Reducer.majority,
    "mode": Reducer.majority,
    "minority": Reducer.minority,
    "variety": Reducer.unique,
    "variance": Reducer.variance,
    "stdev": Reducer.stdDev,
    "median": Reducer.median,
}
_QUANTILE = re.compile(r"quantile\(\s*q\s*=\s*([0-9.eE+-]+)\s*\)")


def _ee_op(op: str) -> tuple[str, str, Any]:
    """``(column name, kind, parameter)`` of one exactextract op."""
    op = op.strip()
    m = _QUANTILE.fullmatch(op)
    if m:
        q = float(m.group(1))
        if not 0 <= q <= 1:
            raise ArgumentError(f"exact_extract: quantile q={q!r} must be between 0 and 1.")
        return f"quantile_{q * 100:g}", "quantile", q
    if op in _EE_SIMPLE or op in ("count", "coefficient_of_variation", "frac", "unique"):
        return op, op, None
    raise ArgumentError(f"exact_extract: unknown op {op!r}. Known: {list(EXACTEXTRACT_OPS)!r}.")


def _ee_reducer(ops: list[tuple[str, str, Any]]) -> Reducer:
    parts: list[Reducer] = []
    kinds = {kind for _, kind, _ in ops}
    for k, (_, kind, q) in enumerate(ops):
        if kind in _EE_SIMPLE:
            parts.append(_EE_SIMPLE[kind]().setOutputs([f"_o{k}"]))
        elif kind == "quantile":
            parts.append(Reducer.percentile([q * 100], [f"_o{k}"]))
    if kinds & {"coefficient_of_variation"}:
        parts.append(Reducer.stdDev().setOutputs(["_sd"]))
        parts.append(Reducer.mean().setOutputs(["_mean"]))
    if kinds & {"frac", "unique"}:
        parts.append(Reducer.frac().setOutputs(["_frac"]))
    parts.append(Reducer.sum().setOutputs(["_sum"]))  # on the ones band: exactextract's count
    reducer = parts[0]
    for p in parts[1:]:
        reducer = reducer.combine(p, sharedInputs=True)
    return reducer


def _frac_arrays(d: dict | None) -> tuple[np.ndarray, np.ndarray]:
    if not d:
        return np.array([], dtype="f8"), np.array([], dtype="f8")
    keys = sorted(d, key=float)
    return np.array([float(k) for k in keys]), np.array([float(d[k]) for k in keys])


def exact_extract(
    rasters: Any,
    vectors: Any,
    ops: str | Sequence[str],
    include_cols: str | Sequence[str] | None = None,
    include_geom: bool = False,
    output: Literal["pandas", "geojson"] = "geojson",
) -> pd.DataFrame | list[dict[str, Any]]:
    """The exactextract ``exact_extract``, computed by this engine (every raster and band in one pass).

    Every pixel is weighted by the fraction of it the polygon covers (exactextract's ``c_i``):
    ``count`` is the sum of the fractions, ``mean``/``sum``/``variance``/``stdev`` are weighted,
    ``min``/``max`` take every pixel the polygon touches, ``median`` and ``quantile(q=...)`` are
    weighted quantiles, ``frac`` and ``unique`` give each distinct value's share (both arrays in
    ascending order of value).

    Parameters
    ----------
    rasters
        A raster path or ``ee.Image``, or a list of them.
    vectors
        A vector file, a GeoDataFrame, a FeatureCollection or a list of GeoJSON features.
    ops
        exactextract op names (see :data:`EXACTEXTRACT_OPS`), a list or a comma-separated string.
    include_cols
        Feature columns to copy into the result, first.
    include_geom
        Keep each feature's geometry (a GeoDataFrame for ``output="pandas"``).
    output
        ``"pandas"`` (a DataFrame) or ``"geojson"`` (a list of GeoJSON features), as exactextract.

    Returns
    -------
    pandas.DataFrame or list of dict
        Columns named like exactextract's: ``<op>`` for one single-band raster, ``band_<i>_<op>`` for
        one multi-band raster, ``<name>_<op>`` (``<name>_band_<i>_<op>``) for several rasters, where
        ``<name>`` is the file's stem.

    Examples
    --------
    >>> import numpy as np, xarray as xr, rioxarray, shapely, geopandas as gpd
    >>> from affine import Affine
    >>> arr = xr.DataArray(np.arange(1.0, 10.0).reshape(3, 3), dims=("y", "x"))
    >>> img = Image(arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(1, 0, 0, 0, -1, 3)))
    >>> fields = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0.5, 0.5, 2.5, 2.5)], crs=32633)
    >>> exact_extract(img, fields, ["count", "mean", "quantile(q=0.5)"], include_cols="name", output="pandas")
      name  count  mean  quantile_50
    0    a    4.0   5.0          5.0
    """
    where = "exact_extract"
    if output not in ("pandas", "geojson"):
        raise NotImplementedError(f"{where}: output={output!r} is not supported; use 'pandas' or 'geojson'.")
    sources = list(rasters) if isinstance(rasters, list | tuple) else [rasters]
    if not sources:
        raise ArgumentError(f"{where}: no raster given.")
    op_names = [o for o in (ops.split(",") if isinstance(ops, str) else list(ops)) if o.strip()]
    if not op_names:
        raise ArgumentError(f"{where}: no ops given. Give e.g. ops=['mean', 'count'].")
    parsed = [_ee_op(o) for o in op_names]
    raster_list = [_raster(s, where) for s in sources]
    gdf = _with_crs(_frame(vectors, None, where), raster_list[0])
    cols = [include_cols] if isinstance(include_cols, str) else list(include_cols or [])
    missing = [c for c in cols if c not in gdf.columns]
    if missing:
        raise ArgumentError(f"{where}: include_cols {missing!r} are not columns of the vectors: {list(gdf.columns)!r}.")
    # one single-band image per (raster, band), with a ones band for exactextract's count (Σ c_i)
    labels: list[str] = []
    images: list[Raster] = []
    for k, (src, rast) in enumerate(zip(sources, raster_list, strict=True)):
        stem = os.path.splitext(os.path.basename(str(src)))[0] if isinstance(src, str | os.PathLike) else f"r{k}"
        for b in range(len(rast.bands)):
            one = Image(select_bands(rast, [b]))
            band_label = f"band_{b + 1}" if len(rast.bands) > 1 else ""
            name = "_".join(p for p in ([stem] if len(sources) > 1 else []) + [band_label] if p)
            labels.append(name)
            images.append(one.rename("v").addBands(one.multiply(0).add(1).rename("ones")).raster)
    reducer = _ee_reducer(parsed)
    values = _reduce(images, gdf, reducer)
    n = len(gdf)
    table: dict[str, Any] = {c: gdf[c].to_numpy() for c in cols}
    for k, (col, kind, _) in enumerate(parsed):
        for label, vals in zip(labels, values, strict=True):
            name = f"{label}_{col}" if label else col
            count = np.nan_to_num(np.asarray(vals["ones__sum"], dtype="f8"), nan=0.0)
            if kind == "count":
                table[name] = count
            elif kind == "variety":
                table[name] = np.array([int(v) if c > 0 else 0 for v, c in zip(vals[f"v__o{k}"], count, strict=True)])
            elif kind == "coefficient_of_variation":
                table[name] = np.asarray(vals["v__sd"], dtype="f8") / np.asarray(vals["v__mean"], dtype="f8")
            elif kind in ("frac", "unique"):
                arrays = [_frac_arrays(d) for d in vals["v__frac"]]
                table[name] = [a[1] if kind == "frac" else a[0] for a in arrays]
            else:
                table[name] = np.asarray(vals[f"v__o{k}"], dtype="f8")
    frame = pd.DataFrame(table, index=range(n))
    if include_geom:
        import geopandas as gpd

        frame = gpd.GeoDataFrame(frame, geometry=list(gdf.geometry.values), crs=gdf.crs)
    if output == "pandas":
        return frame
    import shapely

    feats = []
    for i in range(n):
        props = {c: frame[c].iloc[i] for c in frame.columns if c != "geometry"}
        feat: dict[str, Any] = {"type": "Feature", "properties": props}
        if include_geom:
            feat["geometry"] = shapely.geometry.mapping(gdf.geometry.iloc[i])
        feats.append(feat)
    return feats
