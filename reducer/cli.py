"""The ``reducer`` command-line tool.

Subcommands (also ``python -m reducer ...``):

``reducer zonal FEATURES RASTERS... --stats mean,max -o OUT``
    Zonal statistics of every feature on every raster, through ``ee.ImageCollection(...).reduceRegions``.
``reducer points POINTS RASTERS... -o OUT``
    The raster values at points.
``reducer info RASTERS...``
    Bands, CRS, grid, dates and nodata of each raster, from the headers alone.
``reducer demo [DIR]``
    Writes the built-in demo data into ``DIR`` and reduces it.

``RASTERS`` are files, globs (quoted, so that the shell leaves them alone) or folders. A raster's
date comes from its TIFF datetime tag, else from its file name (``ndvi_2024-06-01.tif``).
Output tables are written atomically (:func:`reducer.export.export_table`); the format follows the
extension of ``-o``: ``.csv``, ``.parquet``, ``.gpkg`` or ``.geojson``.

Exit codes: 0 on success, 1 on a :class:`reducer.errors.ReducerError` or an OS error (one line on
stderr; the traceback too with ``--debug``), 2 on bad usage. Warnings are one line each,
``reducer: warning: ...``.

Adding a subcommand: write ``_add_<name>(subparsers, common)``, which adds its parser and sets
``func=<handler>``, a function of the parsed arguments that returns an exit code; then list
``_add_<name>`` in :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import reducer as ee

from . import options
from .dates import date_from_name, to_millis
from .demo import make_demo_data, run_demo
from .errors import ArgumentError, BandError, DateError, GeometryError, ReducerError
from .export import exists_error, export_table
from .output import band_stat_table, iso_date, raster_label
from .raster import Raster
from .sources import RasterioFileSource, raster_paths

__all__ = ["build_parser", "main", "STATS"]

PROG = "reducer"
DEFAULT_DEMO_DIR = "reducer-demo"

#: The statistics ``reducer zonal --stats`` knows (``ee.Reducer`` names), besides ``p<N>``/``percentile_<N>``.
STATS: tuple[str, ...] = (
    "mean",
    "max",
    "min",
    "count",
    "sum",
    "stdDev",
    "variance",
    "median",
    "mode",
    "majority",
    "minority",
    "unique",
    "range",
    "frac",
    "sampleStdDev",
    "sampleVariance",
    "skew",
    "kurtosis",
    "product",
    "first",
    "last",
    "countDistinct",
    "countEvery",
)
_STAT_ALIASES = {s.lower(): s for s in STATS} | {"std": "stdDev", "stddev": "stdDev", "var": "variance"}
_PERCENTILE = re.compile(r"(?:p|percentile_?)(\d+(?:\.\d+)?)", re.IGNORECASE)
_OUT_SUFFIXES = (".csv", ".parquet", ".geoparquet", ".gpkg", ".geojson")
# the column that carries the feature id through the reduction
_FID = "reducer:feature"


class UsageError(Exception):
    """A command line that asks for something reducer cannot do (exit code 2)."""


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("ee-reducer")
    except Exception:  # not installed: running from a source tree
        return "unknown"


def _common() -> argparse.ArgumentParser:
    """Options every subcommand accepts: ``reducer --debug demo`` and ``reducer demo --debug`` both work."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    return parent


# -- argument types ----------------------------------------------------------------------------------
def _stats(text: str) -> list[str]:
    """``mean,max`` → ``['mean', 'max']``; an unknown name lists the available ones."""
    out: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        stat = _STAT_ALIASES.get(name.lower())
        m = _PERCENTILE.fullmatch(name)
        if stat is None and m is not None and 0 <= float(m.group(1)) <= 100:
            stat = name
        if stat is None:
            raise argparse.ArgumentTypeError(
                f"unknown statistic {name!r}; available: {', '.join(STATS)}, p<N> or percentile_<N> "
                "(e.g. --stats mean,max,p90)"
            )
        if stat not in out:
            out.append(stat)
    if not out:
        raise argparse.ArgumentTypeError(f"no statistic given; available: {', '.join(STATS)}")
    return out


def _date(text: str) -> int:
    try:
        return to_millis(text)
    except DateError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _output(text: str) -> Path | None:
    if text == "-":
        return None  # standard output
    path = Path(text)
    if path.suffix.lower() not in _OUT_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"cannot tell the format of {text!r} from its extension; use one of {', '.join(_OUT_SUFFIXES)}"
        )
    return path


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of metres")
    return v


# -- shared options ----------------------------------------------------------------------------------
def _add_inputs(p: argparse.ArgumentParser, features: str) -> None:
    p.add_argument("features", metavar=features, help="vector file of the features (GeoPackage, GeoJSON, ...)")
    p.add_argument(
        "rasters",
        nargs="+",
        metavar="RASTERS",
        help="raster files, quoted globs ('ndvi/*.tif') or folders; dates come from TIFF tags or file names",
    )


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", type=_positive, metavar="M", help="work on a grid of M metres (default: each raster's)")
    p.add_argument(
        "--crs", metavar="CRS", help="work in this CRS, e.g. EPSG:32633 (default: each raster's); see --scale"
    )
    p.add_argument("--start", type=_date, metavar="DATE", help="only rasters dated on or after DATE (e.g. 2024-03-01)")
    p.add_argument("--end", type=_date, metavar="DATE", help="only rasters dated before DATE (exclusive)")
    p.add_argument(
        "--band",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="only these bands (names or regexes; repeatable). Default: every band",
    )
    p.add_argument(
        "--id-field",
        metavar="F",
        help="the feature property that identifies each feature in the output (default: its position, from 0)",
    )


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        type=_output,
        default=None,
        metavar="OUT",
        help="output table: .csv, .parquet, .gpkg or .geojson (the last three keep the feature geometry); "
        "'-' or none: standard output, as CSV (or GeoJSON with --format geojson)",
    )
    p.add_argument(
        "--format",
        choices=("csv", "geojson"),
        default=None,
        help="the format on standard output (default: csv); a file's format follows its extension",
    )
    p.add_argument(
        "--include-cols",
        type=lambda t: [c.strip() for c in t.split(",") if c.strip()],
        default=None,
        metavar="LIST",
        help="the feature attributes to keep in the output, comma-separated (default: all of them)",
    )
    p.add_argument(
        "--wide",
        action="store_true",
        help="one column per date (per image when dates repeat or are missing) instead of one row per value",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr for computations over a second (default: when stderr is a terminal)",
    )


# -- subcommands -------------------------------------------------------------------------------------
def _add_demo(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "demo",
        parents=[common],
        help="write the built-in demo data and reduce it",
        description=(
            "Write a year of synthetic NDVI GeoTIFFs, 50 fields and 20 points into DIR, then compute the "
            "mean, max and min NDVI per field and date and the NDVI at each point with the Earth Engine "
            "API. Writes field_ndvi.csv, point_ndvi.csv and field_ndvi.png into DIR."
        ),
    )
    p.add_argument(
        "dir",
        nargs="?",
        default=DEFAULT_DEMO_DIR,
        metavar="DIR",
        help=f"folder for the data and the results (default: ./{DEFAULT_DEMO_DIR})",
    )
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    data = make_demo_data(folder)
    print(
        f"wrote {len(data['images'])} NDVI images, fields.gpkg and points.gpkg to {folder} in {data['seconds']:.2f} s"
    )
    run_demo(folder)
    return 0


def _add_zonal(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "zonal",
        parents=[common],
        help="zonal statistics of features on rasters",
        description=(
            "Statistics of every feature on every raster and band. The output has one row per feature, "
            "date/image, band and statistic, with the columns <id>, date, image, band, statistic, value; "
            "--wide gives one column per date instead. A feature with no valid pixel (outside the raster, "
            "all nodata) gets an empty value, and a count of 0."
        ),
        epilog="example: reducer zonal fields.gpkg 'ndvi/*.tif' --stats mean,max --id-field field_id -o stats.csv",
    )
    _add_inputs(p, "FEATURES")
    p.add_argument(
        "--stats",
        type=_stats,
        default=["mean"],
        metavar="LIST",
        help=f"comma-separated statistics (default: mean): {', '.join(STATS)}, and percentiles as p10 or percentile_90",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--weighted",
        dest="weighting",
        action="store_const",
        const="weighted",
        help="weight each pixel by the fraction of it the feature covers (default; count always uses "
        "the pixels whose centre is inside; min and max every pixel the feature touches)",
    )
    mode.add_argument(
        "--unweighted",
        dest="weighting",
        action="store_const",
        const="unweighted",
        help="use the pixels whose centre is inside the feature, each with weight 1",
    )
    mode.add_argument(
        "--all-touched",
        dest="weighting",
        action="store_const",
        const="touched",
        help="use every pixel the feature touches, each with weight 1 (rasterstats' all_touched=True)",
    )
    p.set_defaults(weighting="weighted")
    _add_selection(p)
    _add_output(p)
    p.set_defaults(func=_run_zonal)


def _add_points(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "points",
        parents=[common],
        help="raster values at points",
        description=(
            "The value of every raster band at every point. The output has one row per point, date/image "
            "and band, with the columns <id>, date, image, band, value; --wide gives one column per date. "
            "A point outside the raster or on nodata gets an empty value."
        ),
        epilog="example: reducer points stations.gpkg 'ndvi/*.tif' --id-field name -o values.csv",
    )
    _add_inputs(p, "POINTS")
    p.add_argument(
        "--interpolate",
        choices=("nearest", "bilinear"),
        default="nearest",
        help="nearest: the pixel that contains the point (default); bilinear: interpolated between the four "
        "nearest pixel centres",
    )
    _add_selection(p)
    _add_output(p)
    p.set_defaults(func=_run_points)


def _add_info(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "info",
        parents=[common],
        help="bands, CRS, grid, dates and nodata of rasters",
        description="Describe each raster from its header (no pixel is read): bands and data types, CRS, "
        "grid size, resolution and bounds, date (from the TIFF tag or the file name) and nodata.",
    )
    p.add_argument("rasters", nargs="+", metavar="RASTERS", help="raster files, quoted globs or folders")
    p.add_argument("--json", action="store_true", help="print JSON (a list, one object per file) instead of a table")
    p.set_defaults(func=_run_info)


#: Each adds one subcommand to the parser; see the module docstring.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction, argparse.ArgumentParser], None]] = [
    _add_zonal,
    _add_points,
    _add_info,
    _add_demo,
]


# -- shared steps ------------------------------------------------------------------------------------
def _features(path: str, id_field: str | None, include: list[str] | None = None) -> tuple[Any, Any, str, Any]:
    """``(ee.FeatureCollection with only the id column, GeoDataFrame [id, geometry], id column name, attributes)``.

    The attributes are the features' own columns (all, or ``include``), one row per feature, to be
    repeated on every output row of the feature. Without ``--id-field``, the id column ``feature``
    (the position from 0) is kept only when there is no attribute to tell the features apart.
    """
    import geopandas as gpd
    import pandas as pd

    gdf = ee.FeatureCollection(path).to_geopandas()
    fields = [c for c in gdf.columns if c != gdf.geometry.name]
    if id_field is not None:
        if id_field not in fields:
            raise ArgumentError(f"--id-field {id_field!r}: {path!r} has no such field. Its fields: {fields!r}.")
        ids = gdf[id_field].to_numpy()
        name = id_field
    else:
        ids = gdf.index.to_numpy()
        name = "feature"
    dup = gdf[id_field].duplicated(keep=False) if id_field is not None else None
    if dup is not None and dup.any():
        repeated = list(dict.fromkeys(gdf.loc[dup, id_field].tolist()))[:5]
        raise ArgumentError(
            f"--id-field {id_field!r} is not unique in {path!r}: {repeated!r} occur more than once. "
            "Choose a field with one value per feature, or leave --id-field out to number the features."
        )
    if include is not None:
        missing = [c for c in include if c not in fields]
        if missing:
            raise ArgumentError(f"--include-cols {missing!r}: {path!r} has no such field. Its fields: {fields!r}.")
        keep = list(include)
    else:
        keep = fields
    keep = [c for c in keep if c != id_field]
    attributes = pd.DataFrame(gdf[keep].to_numpy(), columns=keep) if keep else pd.DataFrame(index=range(len(gdf)))
    small = gpd.GeoDataFrame({_FID: ids}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    return ee.FeatureCollection(small), small, name, attributes


def _images(args: argparse.Namespace) -> tuple[Any, list[Raster], list[str]]:
    """The collection (dated, filtered, sorted, bands selected), its rasters, and their common bands."""
    ic = ee.ImageCollection(list(args.rasters))
    images = list(ic.rasters)
    if args.start is not None or args.end is not None:
        start = args.start if args.start is not None else -8_640_000_000_000_000
        end = args.end if args.end is not None else 8_640_000_000_000_000
        ic = ic.filterDate(start, end)
        if not ic.rasters:
            dates = [img.properties.get("system:time_start") for img in images]
            known = sorted(d for d in dates if d is not None)
            span = f"from {iso_date(known[0])} to {iso_date(known[-1])}" if known else "none has a date"
            undated = sum(d is None for d in dates)
            note = f"; {undated} have no date (no TIFF datetime tag or date in the name)" if known and undated else ""
            raise DateError(
                f"no raster is dated in the --start/--end range: the {len(images)} rasters' dates run {span}{note}. "
                "Widen the range."
            )
    ic = ic.sort("system:time_start")
    images = list(ic.rasters)
    if args.band:
        for img in images:
            names = img.names
            for b in args.band:
                if not any(n == b for n in names) and not _matches(b, names):
                    raise BandError(
                        f"--band {b!r}: raster {raster_label(img)!r} has no such band. Its bands: {names!r}."
                    )
        ic = ic.select(list(args.band))
        images = list(ic.rasters)
    bands = images[0].names
    for img in images[1:]:
        other = img.names
        if other != bands:
            raise BandError(
                f"the rasters have different bands: {raster_label(images[0])!r} has {bands!r} and "
                f"{raster_label(img)!r} has {other!r}. Pick the bands they share with --band."
            )
    return ic, images, bands


def _matches(pattern: str, names: list[str]) -> bool:
    import re

    try:
        return any(re.fullmatch(pattern, n) for n in names)
    except re.error:
        return False


def _with_attributes(table: Any, rows: Any, id_name: str, attributes: Any) -> Any:
    """``table`` with the features' attributes after the id column (``feature`` dropped when they identify)."""
    import pandas as pd

    if attributes.shape[1] == 0:
        return table
    attrs = attributes.iloc[rows].reset_index(drop=True)
    taken = set(table.columns)
    attrs.columns = [f"feature_{c}" if c in taken else c for c in attrs.columns]
    head = table[[id_name]] if id_name != "feature" else table.iloc[:, :0]
    return pd.concat([head.reset_index(drop=True), attrs, table.drop(columns=[id_name]).reset_index(drop=True)], axis=1)


def _write(table: Any, rows: Any, small: Any, args: argparse.Namespace) -> None:
    import geopandas as gpd

    out = args.output
    fmt = "geojson" if out is None and args.format == "geojson" else None
    for c in table.columns:  # dict-valued statistics (frac) as JSON text, in every format
        if table[c].dtype == object and table[c].map(lambda v: isinstance(v, dict)).any():
            table[c] = table[c].map(lambda v: json.dumps(v, sort_keys=True) if isinstance(v, dict) else v)
    if (out is not None and out.suffix.lower() != ".csv") or fmt == "geojson":
        geometry = small.geometry.to_numpy()[rows] if len(small) else small.geometry.to_numpy()
        table = gpd.GeoDataFrame(table, geometry=geometry, crs=small.crs)
    if out is None:
        if fmt == "geojson":
            sys.stdout.write(table.to_crs("EPSG:4326").to_json(na="null", drop_id=True) + "\n")
        else:
            table.to_csv(sys.stdout, index=False)
        sys.stdout.flush()
        return
    export_table(table, out, overwrite=args.overwrite)
    print(f"wrote {len(table)} rows to {out}", file=sys.stderr)


def _check_output(args: argparse.Namespace) -> None:
    if args.output is not None and args.format is not None:
        raise UsageError(
            f"--format {args.format} is for standard output; the format of {args.output} is its extension."
        )
    if args.output is not None and args.output.exists() and not args.overwrite:
        raise exists_error(args.output)


def _column(name: str, stat: str, bands: list[str], stats: list[str]) -> str:
    """The column ``reduceRegions`` gives a band's statistic (Earth Engine's naming rules)."""
    if len(bands) == 1:
        return stat
    if len(stats) == 1:
        return name
    return f"{name}_{stat}"


# -- zonal -------------------------------------------------------------------------------------------
#: ``--stats`` outputs that are dictionaries (written as JSON text), not numbers.
_DICT_STATS = frozenset({"frac"})


def _stat_reducer(stat: str, k: int) -> Any:
    """The one-output reducer of ``--stats`` name ``stat``, its output named ``s<k>``."""
    m = _PERCENTILE.fullmatch(stat)
    if stat not in STATS and m is not None:
        return ee.Reducer.percentile([float(m.group(1))], [f"s{k}"])
    return getattr(ee.Reducer, stat)().setOutputs([f"s{k}"])


def _run_zonal(args: argparse.Namespace) -> int:
    import numpy as np

    _check_output(args)
    fc, small, id_name, attributes = _features(args.features, args.id_field, args.include_cols)
    ic, images, bands = _images(args)
    stats: list[str] = args.stats
    reducer = _stat_reducer(stats[0], 0)
    for k, s in enumerate(stats[1:], 1):
        reducer = reducer.combine(_stat_reducer(s, k), sharedInputs=True)
    if args.weighting == "unweighted":
        reducer = reducer.unweighted()
    elif args.weighting == "touched":
        reducer = reducer.all_touched()
    result = ic.reduceRegions(fc, reducer, scale=args.scale, crs=args.crs).to_pandas()
    n = len(small)
    keys = [f"s{k}" for k in range(len(stats))]
    values = np.full((len(images), len(bands), len(stats), n), np.nan, dtype=object)
    for k in range(len(images)):
        block = result.iloc[k * n : (k + 1) * n]
        for b, name in enumerate(bands):
            for s, key in enumerate(keys):
                values[k, b, s] = block[_column(name, key, bands, keys)].to_numpy()
    if not _DICT_STATS.intersection(stats):
        values = values.astype(float)
    table, rows = band_stat_table(values, small[_FID].to_numpy(), id_name, images, bands, stats, args.wide)
    _write(_with_attributes(table, rows, id_name, attributes), rows, small, args)
    return 0


# -- points ------------------------------------------------------------------------------------------
def _run_points(args: argparse.Namespace) -> int:
    import numpy as np
    import shapely

    _check_output(args)
    fc, small, id_name, attributes = _features(args.features, args.id_field, args.include_cols)
    geoms = small.geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)
    bad = (kinds != 0) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if bad.any():
        first = np.flatnonzero(bad)[:5]
        raise GeometryError(
            f"{args.features!r}: feature(s) {[small[_FID].iloc[i] for i in first]!r} are not points (the first "
            f"is a {geoms[first[0]].geom_type}). Use `reducer zonal` for polygons and lines."
        )
    ic, images, bands = _images(args)
    n = len(small)
    values = np.full((len(images), len(bands), 1, n), np.nan)
    if args.interpolate == "bilinear":
        point_query = getattr(ee, "point_query", None)
        if point_query is None:
            raise UsageError("--interpolate bilinear is not supported yet. Use --interpolate nearest.")
        if args.scale is not None or args.crs is not None:
            raise UsageError("--interpolate bilinear reads each raster on its own grid: leave out --scale and --crs.")
        gdf = small[[_FID, "geometry"]]
        for k, img in enumerate(images):
            for b, name in enumerate(bands):
                got = point_query(gdf, ee.Image(img), band=name, interpolate="bilinear")
                values[k, b, 0] = [np.nan if v is None else float(v) for v in got]
    else:
        reducer = ee.Reducer.mean()
        result = ic.reduceRegions(fc, reducer, scale=args.scale, crs=args.crs).to_pandas()
        for k in range(len(images)):
            block = result.iloc[k * n : (k + 1) * n]
            for b, name in enumerate(bands):
                values[k, b, 0] = block[_column(name, "mean", bands, ["mean"])].to_numpy(dtype=float)
    table, rows = band_stat_table(values, small[_FID].to_numpy(), id_name, images, bands, None, args.wide)
    _write(_with_attributes(table, rows, id_name, attributes), rows, small, args)
    return 0


# -- info --------------------------------------------------------------------------------------------
def _describe(path: str) -> dict[str, Any]:
    src = RasterioFileSource(path)
    grid = src.grid
    t = grid.transform
    epsg = grid.crs.to_epsg()
    if src.datetime_millis is not None:
        millis, source = src.datetime_millis, "tag"
    else:
        millis = date_from_name(Path(path).name)
        source = "name" if millis is not None else None
    return {
        "file": path,
        "bands": [b.name for b in src.bands],
        "dtypes": [b.dtype for b in src.bands],
        "nodata": [_nodata(b.nodata) for b in src.bands],
        "crs": f"EPSG:{epsg}" if epsg else grid.crs.to_string(),
        "width": grid.width,
        "height": grid.height,
        "resolution": [abs(t.a), abs(t.e)],
        "bounds": [float(v) for v in grid.bounds],
        "date": iso_date(millis) if millis is not None else None,
        "date_from": source,
    }


def _nodata(v: Any) -> Any:
    if v is None:
        return None
    v = float(v)
    if math.isnan(v):
        return "nan"
    return int(v) if v.is_integer() else v


def _run_info(args: argparse.Namespace) -> int:
    paths = [p for item in args.rasters for p in raster_paths(item)]
    records = [_describe(p) for p in paths]
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    rows = [["file", "bands", "crs", "size", "resolution", "bounds", "date", "nodata"]]
    for r in records:
        rows.append(
            [
                r["file"],
                ",".join(f"{b}:{d}" for b, d in zip(r["bands"], r["dtypes"], strict=True)),
                r["crs"],
                f"{r['width']}x{r['height']}",
                "x".join(f"{v:g}" for v in r["resolution"]),
                ",".join(f"{v:.10g}" for v in r["bounds"]),
                (r["date"] + f" ({r['date_from']})") if r["date"] else "-",
                ",".join("-" if v is None else str(v) for v in r["nodata"]),
            ]
        )
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


# -- entry point -------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The ``reducer`` argument parser, with every subcommand in :data:`SUBCOMMANDS`.

    Examples
    --------
    >>> args = build_parser().parse_args(["demo"])
    >>> args.dir, args.debug
    ('reducer-demo', False)
    >>> build_parser().parse_args(["demo", "out", "--debug"]).debug
    True
    >>> args = build_parser().parse_args(["zonal", "f.gpkg", "a.tif", "b.tif", "--stats", "mean,stddev", "-o", "o.csv"])
    >>> args.rasters, args.stats, args.weighting, args.progress
    (['a.tif', 'b.tif'], ['mean', 'stdDev'], 'weighted', None)
    """
    common = _common()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Earth Engine's reducers on local rasters: zonal statistics, point values, time series.",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers, common)
    return parser


def _one_line_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``reducer`` command line; return the exit code.

    Parameters
    ----------
    argv
        Arguments after the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    int
        0 on success, 1 on a :class:`reducer.errors.ReducerError` or an OS error (one line
        ``reducer: error: <message>`` on stderr), 2 on bad usage.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or bad usage (argparse printed why)
        return exc.code if isinstance(exc.code, int) else 2

    progress = getattr(args, "progress", None)
    old = options.set_options(progress=progress) if progress is not None else {}
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return int(args.func(args))
    except UsageError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (ReducerError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    finally:
        if old:
            options.set_options(**old)
