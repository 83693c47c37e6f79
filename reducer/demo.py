"""Built-in demo: synthetic NDVI time series over fields, reduced with the public API.

:func:`make_demo_data` writes a year of monthly NDVI GeoTIFFs (EPSG:32633, 10 m), field polygons and
points (EPSG:4326). Everything comes from a fixed seed: the same call writes the same pixels.
:func:`run_demo` then does what an Earth Engine user would do, through ``import reducer as ee`` only:
the mean, max and min NDVI per field per date, and the NDVI at each point per date. It prints a table,
and writes two CSV files and a chart.

``python -m reducer demo [DIR]`` runs both.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

import reducer as ee

from .export import atomic_write

__all__ = ["make_demo_data", "run_demo", "DEMO_CRS", "DEMO_DATES"]

SEED = 20240115
DEMO_CRS = "EPSG:32633"
#: One image a month, on the 15th.
DEMO_DATES: tuple[str, ...] = tuple(f"2024-{m:02d}-15" for m in range(1, 13))
SIZE = 600  # pixels a side
RES = 10.0  # metres
ORIGIN = (500_000.0, 5_300_000.0)  # upper-left corner (x, y) in EPSG:32633, near 15°E 47.8°N
NODATA = -9999.0
TILE = 256

# crop: (base, amplitude, peak day of year, width in days); a field's curve is
# base + amplitude * exp(-((doy - peak) / width) ** 2), jittered per field.
CROPS: dict[str, tuple[float, float, float, float]] = {
    "winter wheat": (0.22, 0.62, 125.0, 48.0),
    "barley": (0.20, 0.58, 118.0, 40.0),
    "maize": (0.14, 0.72, 212.0, 42.0),
    "sunflower": (0.15, 0.62, 195.0, 34.0),
    "soybean": (0.14, 0.68, 218.0, 36.0),
    "grassland": (0.42, 0.33, 160.0, 85.0),
}
BACKGROUND = (0.30, 0.22, 150.0, 70.0)
CLOUDY_MONTHS = (2, 5, 7, 10, 11)  # months that get a few nodata clumps


def _transform() -> Any:
    from affine import Affine

    return Affine(RES, 0.0, ORIGIN[0], 0.0, -RES, ORIGIN[1])


# -- writing files ---------------------------------------------------------------------------------
def _write_geotiff(path: Path, array: np.ndarray) -> Path:
    import rasterio

    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": array.shape[1],
        "height": array.shape[0],
        "crs": DEMO_CRS,
        "transform": _transform(),
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": TILE,
        "blockysize": TILE,
        "compress": "deflate",
        "predictor": 3,
    }

    def write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(array.astype("float32"), 1)
            dst.set_band_description(1, "NDVI")

    return atomic_write(path, write)


def _write_gpkg(path: Path, gdf: Any, layer: str) -> Path:
    # keep Polygon and MultiPolygon apart, as written (pyogrio would promote all to MultiPolygon)
    return atomic_write(path, lambda tmp: gdf.to_file(tmp, driver="GPKG", layer=layer, promote_to_multi=False))


def _write_csv(path: Path, frame: Any) -> Path:
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


# -- synthetic scene -------------------------------------------------------------------------------
def _blob(rng: np.random.Generator, cx: float, cy: float, radius: float, n: int | None = None) -> np.ndarray:
    """Vertices of an irregular star-shaped ring around ``(cx, cy)`` (valid by construction)."""
    n = n or int(rng.integers(7, 13))
    angles = (np.arange(n) + rng.uniform(-0.3, 0.3, n)) * (2 * np.pi / n)  # gaps < pi: the centre is inside
    radii = radius * rng.uniform(0.8, 1.15, n)
    return np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])


def _fields(rng: np.random.Generator) -> tuple[list[Any], list[str]]:
    """About 50 field polygons in EPSG:32633 and their crops.

    A 7 x 7 layout, less one corner, plus two fields placed across their neighbours (overlaps).
    Every eighth field has a hole, field F21 has two parts and field F28 sits on the raster's
    east edge, half outside it.
    """
    from shapely.geometry import MultiPolygon, Polygon

    x0, y1 = ORIGIN
    extent = SIZE * RES
    step = extent / 7
    crop_names = list(CROPS)
    geoms: list[Any] = []
    crops: list[str] = []
    for row in range(7):
        for col in range(7):
            if (row, col) == (6, 6):
                continue
            cx = x0 + (col + 0.5) * step + rng.uniform(-70, 70)
            cy = y1 - (row + 0.5) * step + rng.uniform(-70, 70)
            k = len(geoms)
            if k == 27:  # F28: centred on the east edge, half outside the raster
                cx = x0 + extent
            radius = rng.uniform(230, 300)
            shell = _blob(rng, cx, cy, radius)
            holes = [_blob(rng, cx, cy, 0.3 * radius, 6)[::-1]] if k % 8 == 3 else []
            geom: Any = Polygon(shell, holes)
            if k == 20:  # F21: a second, small part in the corner of its cell
                part = Polygon(_blob(rng, cx + 0.4 * step, cy - 0.4 * step, 70, 6))
                geom = MultiPolygon([geom, part])
            geoms.append(geom)
            crops.append(crop_names[int(rng.integers(len(crop_names)))])
    for row, col in ((1, 1), (4, 3)):  # between two neighbours in a row: overlaps both
        cx = x0 + (col + 1.0) * step
        cy = y1 - (row + 0.5) * step
        geoms.append(Polygon(_blob(rng, cx, cy, 220)))
        crops.append(crop_names[int(rng.integers(len(crop_names)))])
    return geoms, crops


def _curve(params: tuple[float, float, float, float], doy: float) -> float:
    base, amp, peak, width = params
    return base + amp * float(np.exp(-(((doy - peak) / width) ** 2)))


def _smooth_noise(rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Spatially correlated noise with unit standard deviation."""
    from scipy.ndimage import gaussian_filter

    a = gaussian_filter(rng.standard_normal((SIZE, SIZE)), sigma, mode="wrap")
    return a / a.std()


def _clouds(rng: np.random.Generator) -> np.ndarray:
    """A boolean mask of two to four irregular cloud clumps."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    edge = _smooth_noise(rng, 8.0)
    mask = np.zeros((SIZE, SIZE), dtype=bool)
    for _ in range(int(rng.integers(2, 5))):
        r0, c0 = rng.uniform(0, SIZE, 2)
        radius = rng.uniform(20, 60)
        dist = np.hypot(rows - r0, cols - c0) / radius
        mask |= dist + 0.25 * edge < 1.0
    return mask


def make_demo_data(folder: str | os.PathLike) -> dict[str, Any]:
    """Write the demo data set into ``folder`` (created if needed); deterministic, no network.

    Writes:

    - ``ndvi_2024-01-15.tif`` ... ``ndvi_2024-12-15.tif``: 12 single-band float32 GeoTIFFs, dated by
      their names only (no TIFF date tag): 600 x 600 pixels of 10 m in EPSG:32633, tiled 256 x 256,
      deflate-compressed, band description ``'NDVI'``, nodata -9999 where clouds hide the ground
      (February, May, July, October and November). Each field follows its own seasonal curve, after
      its crop, with in-field variation and noise.
    - ``fields.gpkg``: 50 irregular field polygons in EPSG:4326 with ``field_id`` (``'F01'`` ...) and
      ``crop``. Some have a hole, ``F21`` has two parts, ``F28`` is half outside the rasters, and
      ``F49`` and ``F50`` overlap their neighbours.
    - ``points.gpkg``: 20 points in EPSG:4326 with ``point_id`` (``'P01'`` ...).

    Parameters
    ----------
    folder
        Where to write. Existing files of the same names are replaced.

    Returns
    -------
    dict
        ``folder``, ``images`` (paths, by date), ``dates`` (ISO strings), ``fields``, ``points`` (paths)
        and ``seconds`` taken.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = make_demo_data(d)
    ...     [p.name for p in out["images"]][:2], out["fields"].name, len(out["images"])
    (['ndvi_2024-01-15.tif', 'ndvi_2024-02-15.tif'], 'fields.gpkg', 12)
    """
    import geopandas as gpd
    from rasterio.features import rasterize
    from shapely.geometry import Point

    t0 = time.perf_counter()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)

    geoms, crops = _fields(rng)
    n = len(geoms)
    ids = [f"F{i + 1:02d}" for i in range(n)]
    params = []
    for crop in crops:
        base, amp, peak, width = CROPS[crop]
        params.append(
            (
                base + rng.uniform(-0.04, 0.04),
                amp * rng.uniform(0.85, 1.05),
                peak + rng.uniform(-12, 12),
                width * rng.uniform(0.9, 1.1),
            )
        )

    # Which field each pixel belongs to (0: none); later fields win where they overlap.
    transform = _transform()
    label = rasterize(
        ((g, i + 1) for i, g in enumerate(geoms)), out_shape=(SIZE, SIZE), transform=transform, dtype="int32"
    )
    soil = _smooth_noise(rng, 6.0)  # fixed in-field variation
    background_var = _smooth_noise(rng, 15.0)

    images = []
    for date in DEMO_DATES:
        day = dt.date.fromisoformat(date)
        doy = day.timetuple().tm_yday
        level = np.array([_curve(BACKGROUND, doy)] + [_curve(p, doy) for p in params])
        ndvi = level[label]
        ndvi = ndvi + np.where(label > 0, 0.04, 0.08) * soil + 0.05 * (label == 0) * background_var
        ndvi = ndvi + rng.normal(0.0, 0.02, (SIZE, SIZE))
        ndvi = np.clip(ndvi, -0.1, 0.95).astype("float32")
        if day.month in CLOUDY_MONTHS:
            ndvi[_clouds(rng)] = NODATA
        images.append(_write_geotiff(folder / f"ndvi_{date}.tif", ndvi))

    fields = gpd.GeoDataFrame({"field_id": ids, "crop": crops}, geometry=geoms, crs=DEMO_CRS).to_crs("EPSG:4326")
    fields_path = _write_gpkg(folder / "fields.gpkg", fields, "fields")

    margin = 50.0
    xs = rng.uniform(ORIGIN[0] + margin, ORIGIN[0] + SIZE * RES - margin, 20)
    ys = rng.uniform(ORIGIN[1] - SIZE * RES + margin, ORIGIN[1] - margin, 20)
    points = gpd.GeoDataFrame(
        {"point_id": [f"P{i + 1:02d}" for i in range(20)]},
        geometry=[Point(x, y) for x, y in zip(xs, ys, strict=True)],
        crs=DEMO_CRS,
    ).to_crs("EPSG:4326")
    points_path = _write_gpkg(folder / "points.gpkg", points, "points")

    return {
        "folder": folder,
        "images": images,
        "dates": list(DEMO_DATES),
        "fields": fields_path,
        "points": points_path,
        "seconds": time.perf_counter() - t0,
    }


# -- the demo --------------------------------------------------------------------------------------
def _dated(frame: Any) -> Any:
    """Add a ``date`` column (``YYYY-MM-DD``, UTC) from ``system:time_start`` and drop geometry."""
    import pandas as pd

    frame = pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore")
    date = pd.to_datetime(frame["system:time_start"], unit="ms", utc=True).dt.strftime("%Y-%m-%d")
    frame.insert(0, "date", date)
    return frame.reset_index(drop=True)


def _chart(path: Path, fields: Any, n_curves: int = 5) -> Path:
    """Mean NDVI over time of a few fields, one per crop, as a PNG."""
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter, MonthLocator
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    picked = fields.drop_duplicates("crop").head(n_curves)
    for field_id, crop in zip(picked["field_id"], picked["crop"], strict=True):
        one = fields[fields["field_id"] == field_id].sort_values("date")
        ax.plot(pd.to_datetime(one["date"]), one["mean"], marker="o", label=f"{field_id} ({crop})")
    ax.xaxis.set_major_locator(MonthLocator())
    ax.xaxis.set_major_formatter(DateFormatter("%b"))
    ax.set_xlabel("Date (2024)")
    ax.set_ylabel("NDVI")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(title="Field (crop)", loc="upper left", fontsize="small")
    ax.set_title("Mean NDVI per field, 2024")
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def run_demo(folder: str | os.PathLike, *, verbose: bool = True) -> dict[str, Any]:
    """Reduce the demo data in ``folder`` with the public API, as an Earth Engine script would.

    Computes the mean, max and min NDVI of every field on every date (``reduceRegions`` over the
    collection at 10 m) and the NDVI at every point on every date (a point takes the pixel that
    contains it). Writes ``field_ndvi.csv`` and ``point_ndvi.csv`` (long form: one row per feature and
    date) and ``field_ndvi.png`` (a few fields' mean NDVI over the year) into ``folder``.

    Parameters
    ----------
    folder
        A folder written by :func:`make_demo_data`.
    verbose
        Print the table of mean NDVI (fields x months) and a timing summary.

    Returns
    -------
    dict
        ``fields_csv``, ``points_csv``, ``chart`` (paths); ``fields``, ``points`` (long-form
        DataFrames, as written), ``table`` (mean NDVI, fields x months); ``n_images``, ``n_fields``,
        ``n_points`` and ``seconds`` (``{'fields': s, 'points': s}``).

    Raises
    ------
    reducer.errors.ReducerError
        If the folder does not hold the demo files (e.g. ``InputFileError``).
    """
    folder = Path(folder)
    ee.Initialize()
    fields = ee.FeatureCollection(str(folder / "fields.gpkg"))
    points = ee.FeatureCollection(str(folder / "points.gpkg"))
    ndvi = ee.ImageCollection(str(folder / "ndvi_*.tif")).filterDate("2024-01-01", "2025-01-01").select("NDVI")
    stats = ee.Reducer.mean().combine(ee.Reducer.max(), sharedInputs=True).combine(ee.Reducer.min(), sharedInputs=True)

    t0 = time.perf_counter()
    field_stats = _dated(ndvi.reduceRegions(fields, stats, scale=10).to_pandas())
    t_fields = time.perf_counter() - t0

    t0 = time.perf_counter()
    point_values = ndvi.reduceRegions(points, ee.Reducer.mean().setOutputs(["NDVI"]), scale=10).to_pandas()
    point_values = _dated(point_values)
    t_points = time.perf_counter() - t0

    fields_csv = _write_csv(folder / "field_ndvi.csv", field_stats)
    points_csv = _write_csv(folder / "point_ndvi.csv", point_values)
    chart = _chart(folder / "field_ndvi.png", field_stats)

    table = field_stats.pivot_table(index="field_id", columns="date", values="mean", dropna=False)
    table.columns = [dt.date.fromisoformat(d).strftime("%b") for d in table.columns]
    n_images = int(field_stats["date"].nunique())
    n_fields = int(field_stats["field_id"].nunique())
    n_points = int(point_values["point_id"].nunique())
    if verbose:
        print(f"Mean NDVI per field and month (first 10 of {n_fields} fields; -: no valid pixel):")
        print(table.head(10).round(2).to_string(na_rep="-"))
        print()
        print(f"wrote {fields_csv}")
        print(f"wrote {points_csv}")
        print(f"wrote {chart}")
        print(
            f"{n_images} images, {n_fields} fields, {n_points} points: "
            f"fields (mean, max, min) {t_fields:.2f} s, points {t_points:.2f} s"
        )
    return {
        "fields_csv": fields_csv,
        "points_csv": points_csv,
        "chart": chart,
        "fields": field_stats,
        "points": point_values,
        "table": table,
        "n_images": n_images,
        "n_fields": n_fields,
        "n_points": n_points,
        "seconds": {"fields": t_fields, "points": t_points},
    }
