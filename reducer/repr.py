"""Notebook reprs: short, collapsible HTML for images, collections, features, reductions and tables.

(``ee.Reducer``'s own, a layer below, is in :mod:`reducer.reducers`.)

Each function returns an HTML string built from metadata only (band names, grids, properties,
dates, a reduction's plan): none reads a pixel. The sections are ``<details>`` elements, closed
except the first, as xarray's reprs are. The facades' ``_repr_html_`` methods call these.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .grid import Grid, crs_string
from .output import explain, iso_date
from .raster import Raster
from .regions import Reduction

__all__ = [
    "image_html",
    "collection_html",
    "features_html",
    "reduction_html",
    "table_html",
    "MAX_ROWS",
]

MAX_ROWS = 20
"""Rows shown in a section before ``...``."""

_STYLE = (
    "<style>.reducer-repr{font-family:monospace;font-size:12px;line-height:1.4}"
    ".reducer-repr summary{cursor:pointer;font-weight:bold}"
    ".reducer-repr table{border-collapse:collapse;margin:2px 0 4px 12px}"
    ".reducer-repr td,.reducer-repr th{padding:1px 8px;text-align:left;border:none}"
    ".reducer-repr pre{margin:2px 0 4px 12px}</style>"
)


def _e(x: Any) -> str:
    return html.escape(str(x))


def _section(title: str, body: str, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{_e(title)}</summary>{body}</details>"


def _rows(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    shown = list(rows)[:MAX_ROWS]
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in shown)
    more = f"<tr><td colspan='{len(header)}'>... {len(rows) - MAX_ROWS} more</td></tr>" if len(rows) > MAX_ROWS else ""
    return f"<table><tr>{head}</tr>{body}{more}</table>"


def _wrap(title: str, sections: Sequence[str]) -> str:
    return f"<div class='reducer-repr'>{_STYLE}<div><b>{_e(title)}</b></div>{''.join(sections)}</div>"


def _grid_text(grid: Grid | None) -> str:
    if grid is None:
        return "no projection (constant)"
    return f"{crs_string(grid)}, {grid.nominal_scale:g} m, {grid.width} x {grid.height} px"


def _props_rows(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for k in sorted(props):
        v = props[k]
        text = f"{v} ({iso_date(v)})" if k in ("system:time_start", "system:time_end") and v is not None else repr(v)
        rows.append((k, text if len(text) <= 80 else text[:77] + "..."))
    return rows


def image_html(raster: Raster) -> str:
    """An image: its id and date, its bands (type, grid) and its properties.

    Examples
    --------
    >>> from reducer.raster import constant_band
    >>> out = image_html(Raster((constant_band("a", 1),), {"system:index": "x"}))
    >>> "ee.Image" in out and "<td>a</td>" in out and "system:index" in out
    True
    """
    props = raster.properties
    title = f"ee.Image {props.get('system:index', '')!s}".rstrip()
    t = props.get("system:time_start")
    if t is not None:
        title += f" ({iso_date(t)})"
    bands = _rows(["band", "type", "grid"], [(b.name, b.dtype, _grid_text(b.grid)) for b in raster.bands])
    sections = [_section(f"Bands ({len(raster.bands)})", bands, open_=True)]
    sections.append(_section(f"Properties ({len(props)})", _rows(["name", "value"], _props_rows(props))))
    return _wrap(title, sections)


def collection_html(rasters: Sequence[Raster], properties: Mapping[str, Any]) -> str:
    """A collection: its size, date range, bands and grids, and its images (id, date, bands).

    Examples
    --------
    >>> from reducer.raster import constant_band
    >>> props = [{"system:index": f"i{k}", "system:time_start": k * 86400000} for k in (1, 2)]
    >>> rs = [Raster((constant_band("a", 1),), p) for p in props]
    >>> out = collection_html(rs, {})
    >>> "2 images" in out and "1970-01-02" in out and "1970-01-03" in out
    True
    """
    times = [r.properties.get("system:time_start") for r in rasters]
    dated = [t for t in times if t is not None]
    title = f"ee.ImageCollection: {len(rasters)} images"
    if dated:
        title += f", {iso_date(min(dated))} to {iso_date(max(dated))}"
    bands: list[str] = []
    grids: dict[str, int] = {}
    for r in rasters:
        bands.extend(b.name for b in r.bands if b.name not in bands)
        key = _grid_text(r.grid)
        grids[key] = grids.get(key, 0) + 1
    images = [
        (r.properties.get("system:index", k), iso_date(t) if t is not None else "", ", ".join(r.names))
        for k, (r, t) in enumerate(zip(rasters, times, strict=True))
    ]
    keys = sorted({k for r in rasters for k in r.properties})
    sections = [
        _section(f"Bands ({len(bands)})", f"<pre>{_e(', '.join(bands))}</pre>", open_=True),
        _section(f"Grids ({len(grids)})", _rows(["grid", "images"], sorted(grids.items()))),
        _section(f"Images ({len(rasters)})", _rows(["id", "date", "bands"], images)),
        _section(f"Image properties ({len(keys)})", f"<pre>{_e(', '.join(keys))}</pre>"),
    ]
    if properties:
        sections.append(_section(f"Properties ({len(properties)})", _rows(["name", "value"], _props_rows(properties))))
    return _wrap(title, sections)


def features_html(gdf: Any | None, properties: Mapping[str, Any]) -> str:
    """A feature collection: its feature count, CRS, geometry types and columns (None: not evaluated yet).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    >>> out = features_html(gdf, {})
    >>> "1 features" in out and "EPSG:4326" in out and "name" in out
    True
    >>> "not evaluated" in features_html(None, {})
    True
    """
    if gdf is None:
        body = "<pre>not evaluated yet: getInfo(), size() or to_pandas() evaluates it</pre>"
        return _wrap("ee.FeatureCollection (lazy)", [_section("Features", body, open_=True)])
    crs = gdf.crs.to_string() if gdf.crs is not None else "none"
    types = gdf.geometry.geom_type.value_counts()
    title = f"ee.FeatureCollection: {len(gdf)} features, {crs}"
    columns = [(c, str(gdf[c].dtype)) for c in gdf.columns if c != gdf.geometry.name]
    sections = [
        _section(f"Columns ({len(columns)})", _rows(["column", "type"], columns), open_=True),
        _section("Geometry types", _rows(["type", "features"], list(types.items()))),
    ]
    if properties:
        sections.append(_section(f"Properties ({len(properties)})", _rows(["name", "value"], _props_rows(properties))))
    return _wrap(title, sections)


def reduction_html(reduction: Reduction) -> str:
    """A pending reduction: its images, reducer outputs and the ``explain()`` plan (no pixel read).

    Planning evaluates the features and their coverage of the grid, which ``getInfo()`` then reuses.
    """
    images = reduction.images
    title = f"ee.FeatureCollection: a pending reduceRegions over {len(images)} images"
    outs = ", ".join(o.name for o in reduction.request.reducer.outputs)
    plan = str(explain(reduction))
    sections = [
        _section("Plan (nothing read yet)", f"<pre>{_e(plan)}</pre>", open_=True),
        _section("Reducer outputs", f"<pre>{_e(outs)}</pre>"),
    ]
    return _wrap(title, sections)


def table_html(frame: pd.DataFrame, title: str) -> str:
    """A data table (a chart's) as a collapsible HTML table, at most :data:`MAX_ROWS` rows shown.

    Examples
    --------
    >>> "<table" in table_html(pd.DataFrame({"a": [1, 2]}), "Data")
    True
    """
    shown = frame.head(MAX_ROWS).to_html(border=0)
    more = f"<div>... {len(frame) - MAX_ROWS} more rows</div>" if len(frame) > MAX_ROWS else ""
    return _section(f"{title} ({len(frame)} rows)", shown + more)
