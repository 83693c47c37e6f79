"""Charts in the manner of Earth Engine's ``ui.Chart``, drawn with matplotlib (Agg, no pyplot).

``ee.ui.Chart.image.series``, ``seriesByRegion``, ``doySeries``, ``doySeriesByYear`` and
``ee.ui.Chart.feature.byFeature`` build a :class:`Chart` whose data is computed on first use (it
reduces the images with ``reduceRegions``, so pixels are read through the engine like any other
result). A chart is a data table (x values, one column per series) plus options:

- ``chart.to_pandas()``: the table; ``chart.getDataTable()``: the same as Earth Engine's list of lists;
- ``chart.figure()``: a new :class:`matplotlib.figure.Figure`; ``chart.save(path)`` writes it
  (format from the suffix: ``.png``, ``.svg``, ``.pdf``), atomically; in a notebook the chart shows itself;
- ``chart.setOptions({...})``, ``setChartType``, ``setSeriesNames``: as in Earth Engine they change
  the chart and return it, so a script's ``chart.setOptions(...)`` lines port as they are;
- ``chart.trendline('ols' | 'sens')`` adds a dashed trend line per series, labelled with its slope;
  ``chart.trends()`` gives the slopes, ``{series: slope}`` (per day on a date axis).

Options understood (Google Charts' names, as Earth Engine scripts use them): ``title``,
``hAxis``/``vAxis`` (``title``, ``viewWindow: {min, max}``), ``colors``, ``lineWidth``, ``pointSize``,
``interpolateNulls``, ``legend`` (``{'position': 'none'}`` or ``'none'``), ``series`` (per series index:
``color``, ``lineWidth``, ``pointSize``, ``lineDashStyle``, ``labelInLegend``, ``visibleInLegend``),
``trendlines`` (per series index: ``type`` ``'linear'``/``'ols'``/``'sens'``, ``color``,
``lineWidth``, ``visibleInLegend``), ``width`` and ``height`` (pixels). Other options are ignored.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .collection import ImageCollection
from .errors import ArgumentError
from .export import atomic_write
from .features import Feature, FeatureCollection
from .geometry import as_geometry
from .output import band_output_values
from .reducers import Reducer, reduce_columns
from .repr import table_html
from .stats import AGGREGATIONS
from .values import Thunk, unwrap

__all__ = ["Chart", "ImageCharts", "FeatureCharts", "CHART_TYPES", "trend_slope"]

ChartType = Literal["LineChart", "ScatterChart", "ColumnChart", "AreaChart"]
CHART_TYPES: tuple[str, ...] = ("LineChart", "ScatterChart", "ColumnChart", "AreaChart")
TrendMethod = Literal["ols", "sens"]
_TREND_ALIASES = {"ols": "ols", "linear": "ols", "sens": "sens", "theilsen": "sens", "theil-sen": "sens"}
_MS_PER_DAY = 86_400_000.0
_DAYS_PER_YEAR = 365.25


def trend_slope(x: np.ndarray, y: np.ndarray, method: TrendMethod = "ols") -> tuple[float, float]:
    """``(slope, intercept)`` of ``y`` against ``x`` over the finite pairs; NaN with fewer than 2.

    ``"ols"`` is least squares (``numpy.polyfit``), ``"sens"`` the Theil-Sen median of pairwise
    slopes (``scipy.stats.theilslopes``), which one outlier (a cloud) does not move.

    Examples
    --------
    >>> trend_slope(np.array([0.0, 1, 2, 3]), np.array([1.0, 3, 5, 7]))
    (2.0, 1.0)
    >>> trend_slope(np.array([0.0, 1, 2, 3]), np.array([0.0, 1, 20, 3]), "sens")  # the outlier is ignored
    (1.0, 0.5)
    >>> trend_slope(np.array([0.0]), np.array([1.0]))
    (nan, nan)
    """
    x = np.asarray(x, dtype="f8")
    y = np.asarray(y, dtype="f8")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.ptp(x) == 0:
        return (float("nan"), float("nan"))
    if method == "sens":
        from scipy.stats import theilslopes

        res = theilslopes(y, x)
        return (float(res[0]), float(res[1]))
    slope, intercept = np.polyfit(x, y, 1)
    return (float(slope), float(intercept))


def _trend_method(method: Any) -> str:
    m = _TREND_ALIASES.get(str(method).lower().replace("_", "-"))
    if m is None:
        raise ArgumentError(f"trendline: method {method!r} is not known. Use 'ols' (least squares) or 'sens'.")
    return m


def _color(c: Any) -> Any:
    """Google Charts colours are hex with or without '#'."""
    if isinstance(c, str) and len(c) in (3, 6, 8) and all(ch in "0123456789abcdefABCDEF" for ch in c):
        return "#" + c
    return c


def _x_kind(index: pd.Index) -> str:
    if isinstance(index, pd.DatetimeIndex) or pd.api.types.is_datetime64_any_dtype(index):
        return "time"
    if pd.api.types.is_numeric_dtype(index) and not pd.api.types.is_bool_dtype(index):
        return "number"
    return "category"


class Chart:
    """``ee.ui.Chart``: a data table drawn as a line, scatter, column or area chart.

    Parameters
    ----------
    dataTable
        Earth Engine's list of lists (a header row, then one row per x value: ``[x, y1, y2, ...]``),
        or a pandas DataFrame whose index is the x axis and whose columns are the series.
    chartType
        ``'LineChart'`` (default), ``'ScatterChart'``, ``'ColumnChart'`` or ``'AreaChart'``.
    options
        Chart options (see the module documentation).

    Examples
    --------
    >>> chart = Chart([["x", "a", "b"], [1, 1.0, 2.0], [2, 2.0, 2.5], [3, 3.0, 3.0]])
    >>> chart.setOptions({"title": "Two series"}).trendline("ols").trends()
    {'a': 1.0, 'b': 0.5}
    >>> [line.get_label() for line in chart.figure().axes[0].get_lines()]
    ['a', 'a trend (+1/unit)', 'b', 'b trend (+0.5/unit)']
    """

    def __init__(
        self,
        dataTable: Any = None,
        chartType: str = "LineChart",
        options: Mapping[str, Any] | None = None,
        *,
        _data: Thunk | None = None,
        _labels: Mapping[str, Any] | None = None,
    ):
        if _data is None:
            frame = _table_frame(dataTable)
            _data = Thunk.of(frame)
        self._data = _data
        self._labels = dict(_labels or {})
        self._options: dict[str, Any] = {}
        self._type = "LineChart"
        self._names: dict[int, str] = {}
        self._trend: tuple[str, str] | None = None
        self.setChartType(chartType)
        if options:
            self.setOptions(options)

    def __repr__(self) -> str:
        state = "computed" if self._data.done else "lazy"
        return f"ui.Chart({self._type}, {self._labels.get('title') or self._options.get('title') or ''!r}, {state})"

    # -- Earth Engine's methods -------------------------------------------------------------------
    def setOptions(self, options: Mapping[str, Any]) -> Chart:
        """Set options (merged into the current ones, key by key); returns this chart."""
        options = unwrap(options)
        if not isinstance(options, Mapping):
            raise ArgumentError(f"Chart.setOptions: expected a dict of options, got {options!r}.")
        self._options.update({str(k): v for k, v in options.items()})
        return self

    def getOptions(self) -> dict[str, Any]:
        """The options set so far."""
        return dict(self._options)

    def setChartType(self, chartType: str) -> Chart:
        """``'LineChart'``, ``'ScatterChart'``, ``'ColumnChart'`` or ``'AreaChart'``; returns this chart."""
        if chartType not in CHART_TYPES:
            raise ArgumentError(f"Chart.setChartType: {chartType!r} is not supported. Use one of {list(CHART_TYPES)}.")
        self._type = chartType
        return self

    def getChartType(self) -> str:
        """The chart type."""
        return self._type

    def setSeriesNames(self, seriesNames: Any, seriesIndex: int | None = None) -> Chart:
        """Rename the series (a list, in order), or only series ``seriesIndex``; returns this chart."""
        names = unwrap(seriesNames)
        if seriesIndex is not None:
            self._names[int(seriesIndex)] = str(names)
        elif isinstance(names, Mapping):
            self._names.update({int(k): str(v) for k, v in names.items()})
        else:
            self._names.update({i: str(n) for i, n in enumerate(names)})
        return self

    def getDataTable(self) -> list[list]:
        """The data as Earth Engine's list of lists: a header row, then ``[x, y1, y2, ...]`` rows."""
        df = self.to_pandas()
        header = [str(df.index.name or "x"), *[str(c) for c in df.columns]]
        rows = []
        for x, vals in zip(df.index, df.to_numpy(dtype="f8"), strict=True):
            xv = x.to_pydatetime() if isinstance(x, pd.Timestamp) else (x.item() if isinstance(x, np.generic) else x)
            rows.append([xv, *[None if np.isnan(v) else float(v) for v in vals]])
        return [header, *rows]

    # -- Python exits -----------------------------------------------------------------------------
    def to_pandas(self) -> pd.DataFrame:
        """The data (computed on first use): index = x values, one column per series (renamed as set)."""
        df = self._data().copy()
        if self._names:
            df.columns = [self._names.get(i, c) for i, c in enumerate(df.columns)]
        return df

    def trendline(self, method: TrendMethod = "ols", per: Literal["day", "year"] = "day") -> Chart:
        """Draw a trend line for each series (``'ols'`` or ``'sens'``); returns this chart.

        On a date axis slopes are per day (``per='day'``) or per year of 365.25 days; otherwise per
        unit of x (on a category axis, per category).
        """
        if per not in ("day", "year"):
            raise ArgumentError(f"trendline: per={per!r}; use 'day' or 'year'.")
        self._trend = (_trend_method(method), per)
        return self

    def trends(self, method: TrendMethod | None = None, per: Literal["day", "year"] | None = None) -> dict[str, float]:
        """The slope of each series, ``{series name: slope}`` (NaN with fewer than two values).

        ``method`` and ``per`` default to those of :meth:`trendline` (else ``'ols'``, ``'day'``).
        """
        m = _trend_method(method) if method is not None else (self._trend[0] if self._trend else "ols")
        p = per or (self._trend[1] if self._trend else "day")
        df = self.to_pandas()
        x = self._x_numeric(df.index, p)
        return {str(c): trend_slope(x, df.iloc[:, i].to_numpy(dtype="f8"), m)[0] for i, c in enumerate(df.columns)}

    def figure(self) -> Any:
        """A new matplotlib Figure of the chart (Agg canvas; no pyplot state)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        df = self.to_pandas()
        opts = self._options
        width = float(opts.get("width", 900)) / 100
        height = float(opts.get("height", 500)) / 100
        fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        self._draw(ax, df)
        return fig

    def save(self, path: str | os.PathLike, dpi: int = 100) -> Path:
        """Write the chart to ``path`` (format from its suffix), atomically; returns the path."""
        path = Path(path)
        fmt = path.suffix.lstrip(".").lower() or "png"
        fig = self.figure()
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.figure().savefig(buf, format="png")
        return buf.getvalue()

    def _repr_html_(self) -> str:
        """Notebook repr: the chart (PNG) and, collapsed below it, its data table."""
        import base64

        png = base64.b64encode(self._repr_png_()).decode("ascii")
        table = table_html(self.to_pandas(), "Data table")
        return f"<div class='reducer-repr'><img src='data:image/png;base64,{png}'/>{table}</div>"

    # -- drawing ----------------------------------------------------------------------------------
    def _x_kind(self, index: pd.Index) -> str:
        return self._labels.get("x_kind") or _x_kind(index)

    def _x_numeric(self, index: pd.Index, per: str) -> np.ndarray:
        kind = self._x_kind(index)
        if kind == "time":
            ms = pd.DatetimeIndex(index).as_unit("ms").asi8.astype("f8")
            days = ms / _MS_PER_DAY
            return days / _DAYS_PER_YEAR if per == "year" else days
        if kind == "number":
            return np.asarray(index, dtype="f8")
        return np.arange(len(index), dtype="f8")

    def _draw(self, ax: Any, df: pd.DataFrame) -> None:
        opts = self._options
        kind = self._x_kind(df.index)
        if kind == "category":
            xs = np.arange(len(df.index), dtype="f8")
        elif kind == "time":
            xs = pd.DatetimeIndex(df.index).to_numpy()
        else:
            xs = np.asarray(df.index, dtype="f8")
        colors = [_color(c) for c in (opts.get("colors") or [])]
        series_opts = {int(k): v for k, v in (opts.get("series") or {}).items()}
        trend_opts = {int(k): v for k, v in (opts.get("trendlines") or {}).items()}
        interpolate = bool(opts.get("interpolateNulls", False))
        n = len(df.columns)
        default_cycle = _palette(n)
        bar_width, bar_step = _bar_geometry(xs, kind, n)
        for i, name in enumerate(df.columns):
            so = dict(series_opts.get(i, {}))
            color = _color(so.get("color")) or (colors[i % len(colors)] if colors else default_cycle[i])
            lw = float(so.get("lineWidth", opts.get("lineWidth", 2)))
            ps = float(so.get("pointSize", opts.get("pointSize", 4)))
            label = str(so.get("labelInLegend", name))
            if so.get("visibleInLegend") is False:
                label = "_" + label
            y = df.iloc[:, i].to_numpy(dtype="f8")
            x_i = xs
            if interpolate:
                keep = np.isfinite(y)
                x_i, y = xs[keep], y[keep]
            dash = so.get("lineDashStyle")
            style: dict[str, Any] = {"color": color, "label": label}
            if dash:
                style["dashes"] = [float(d) for d in dash]
            if self._type == "ColumnChart":
                offset = (i - (n - 1) / 2) * bar_step
                ax.bar(x_i + offset, np.nan_to_num(y, nan=0.0), width=bar_width, **style)
            elif self._type == "ScatterChart":
                ax.plot(x_i, y, linestyle="none", marker="o", markersize=max(ps, 3), **style)
            else:
                marker = "o" if ps > 0 else None
                (line,) = ax.plot(x_i, y, linewidth=lw, marker=marker, markersize=ps, **style)
                if self._type == "AreaChart":
                    ax.fill_between(x_i, np.nan_to_num(y, nan=0.0), alpha=0.25, color=line.get_color())
            method = None
            if i in trend_opts:
                method = _trend_method(trend_opts[i].get("type", "linear"))
            elif self._trend is not None:
                method = self._trend[0]
            if method is not None:
                self._draw_trend(ax, df, i, str(name), method, trend_opts.get(i, {}), color, lw, xs, kind)
        self._decorate(ax, df, kind)

    def _draw_trend(self, ax, df, i, name, method, topt, color, lw, xs, kind) -> None:
        per = self._trend[1] if self._trend else "day"
        xnum = self._x_numeric(df.index, per)
        y = df.iloc[:, i].to_numpy(dtype="f8")
        slope, intercept = trend_slope(xnum, y, method)
        if not np.isfinite(slope):
            return
        ok = np.isfinite(y) & np.isfinite(xnum)
        lo, hi = int(np.argmin(np.where(ok, xnum, np.inf))), int(np.argmax(np.where(ok, xnum, -np.inf)))
        ends_x = xs[[lo, hi]]
        ends_y = intercept + slope * xnum[[lo, hi]]
        unit = f"/{per}" if kind == "time" else ("/category" if kind == "category" else "/unit")
        label = f"{name} trend ({slope:+.3g}{unit})"
        if topt.get("visibleInLegend") is False:
            label = "_" + label
        ax.plot(
            ends_x,
            ends_y,
            linestyle="--",
            linewidth=float(topt.get("lineWidth", max(lw - 0.5, 1))),
            color=_color(topt.get("color")) or color,
            label=label,
        )

    def _decorate(self, ax: Any, df: pd.DataFrame, kind: str) -> None:
        opts = self._options
        h = opts.get("hAxis") or {}
        v = opts.get("vAxis") or {}
        title = opts.get("title", self._labels.get("title"))
        if title:
            ax.set_title(str(title))
        ax.set_xlabel(str(h.get("title", self._labels.get("x", df.index.name or ""))))
        ax.set_ylabel(str(v.get("title", self._labels.get("y", ""))))
        if kind == "time":
            from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        elif kind == "category":
            ax.set_xticks(np.arange(len(df.index)))
            ax.set_xticklabels([str(x) for x in df.index], rotation=45 if len(df.index) > 6 else 0, ha="right")
        hw, vw = h.get("viewWindow") or {}, v.get("viewWindow") or {}
        if "min" in hw or "max" in hw:
            conv = pd.Timestamp if kind == "time" else float
            ax.set_xlim(
                left=conv(hw["min"]) if hw.get("min") is not None else None,
                right=conv(hw["max"]) if hw.get("max") is not None else None,
            )
        if "min" in vw or "max" in vw:
            ax.set_ylim(bottom=vw.get("min"), top=vw.get("max"))
        ax.grid(alpha=0.3)
        legend = opts.get("legend")
        position = legend.get("position") if isinstance(legend, Mapping) else legend
        handles, labels = ax.get_legend_handles_labels()
        if position == "none" or not handles:
            return
        ncol = max(1, -(-len(handles) // 20))
        if position in ("top", "bottom"):
            ax.legend(
                title=self._labels.get("legend"),
                loc="lower center" if position == "top" else "upper center",
                bbox_to_anchor=(0.5, 1.02) if position == "top" else (0.5, -0.12),
                ncol=min(len(handles), 6),
                fontsize="small",
            )
        elif position == "in" or (position is None and len(handles) <= 8):
            ax.legend(title=self._labels.get("legend"), loc="best", fontsize="small", ncol=ncol)
        else:
            ax.legend(
                title=self._labels.get("legend"),
                loc="center left",
                bbox_to_anchor=(1.01, 0.5),
                fontsize="small",
                ncol=ncol,
            )


def _palette(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _bar_geometry(xs: np.ndarray, kind: str, n: int) -> tuple[Any, Any]:
    """Bar width and the offset between series, in x units (a timedelta on a date axis)."""
    if kind == "time":
        steps = np.diff(np.sort(xs.astype("datetime64[ms]").astype("i8"))) if len(xs) > 1 else np.array([])
        step_ms = float(steps[steps > 0].min()) if (steps > 0).any() else _MS_PER_DAY
        width = step_ms * 0.8 / max(n, 1)
        return np.timedelta64(int(width), "ms"), np.timedelta64(int(width), "ms")
    if kind == "number" and len(xs) > 1:
        steps = np.diff(np.sort(xs))
        step = float(steps[steps > 0].min()) if (steps > 0).any() else 1.0
    else:
        step = 1.0
    width = step * 0.8 / max(n, 1)
    return width, width


def _table_frame(dataTable: Any) -> pd.DataFrame:
    """A DataFrame (index = x) from Earth Engine's list of lists or a DataFrame."""
    table = unwrap(dataTable)
    if isinstance(table, pd.DataFrame):
        return table.copy()
    if not isinstance(table, list | tuple) or not table or not isinstance(table[0], list | tuple):
        raise ArgumentError(
            f"ui.Chart: dataTable must be a list of lists (a header row, then [x, y1, y2, ...] rows) or a "
            f"DataFrame, got {dataTable!r:.80}."
        )
    header = [h.get("label", h.get("id", "")) if isinstance(h, Mapping) else str(h) for h in table[0]]
    rows = [list(r) for r in table[1:]]
    df = pd.DataFrame(rows, columns=header)
    x = df.iloc[:, 0]
    if x.map(lambda v: hasattr(v, "year")).all() and len(x):
        x = pd.to_datetime(x)
    df = df.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    df.index = pd.Index(x, name=header[0])
    return df


# -- data: images reduced over regions --------------------------------------------------------


def _single_output(reducer: Any, where: str) -> Any:
    if reducer is None:
        return Reducer.mean()
    if not isinstance(reducer, Reducer):
        raise ArgumentError(f"{where}: reducer must be an ee.Reducer such as ee.Reducer.mean(), got {reducer!r}.")
    if len(reducer.outputs) != 1 or reducer.n_inputs != 1:
        names = [o.name for o in reducer.outputs]
        raise ArgumentError(
            f"{where}: the reducer must give one value per band, but it has outputs {names!r}. "
            "Use a single reducer such as ee.Reducer.mean(), or draw one chart per output."
        )
    return reducer


def _collection(imageCollection: Any, where: str) -> Any:
    if not isinstance(imageCollection, ImageCollection):
        raise ArgumentError(f"{where}: expected an ee.ImageCollection, got {imageCollection!r}.")
    return imageCollection


def _one_region(region: Any) -> Any:
    """``region`` (Geometry, Feature, FeatureCollection, shapely) as a one-feature collection."""
    return FeatureCollection([Feature(as_geometry(region))])


def _reduce(ic: Any, fc: Any, reducer: Any, scale: Any) -> tuple[Any, list[tuple[Any, dict[tuple[str, str], Any]]]]:
    """Reduce every image over every feature through ``reduceRegions``.

    Returns the features and, per image, ``(image, {(band, output): values per feature})``.
    """
    return band_output_values(ic.reduceRegions(fc, reducer, scale=scale).reduction)


def _x_values(images: Sequence[Any], xProperty: str) -> pd.Index:
    values = [img.properties.get(xProperty) for img in images]
    if xProperty == "system:time_start":
        return pd.DatetimeIndex(pd.to_datetime([np.nan if v is None else v for v in values], unit="ms"), name="time")
    if xProperty == "system:index":
        return pd.Index([str(v) for v in values], name=xProperty)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values if v is not None):
        return pd.Index([np.nan if v is None else float(v) for v in values], name=xProperty, dtype="f8")
    return pd.Index(["" if v is None else str(v) for v in values], name=xProperty)


def _x_label(xProperty: str) -> str:
    return "Date (UTC)" if xProperty == "system:time_start" else xProperty


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    if _x_kind(df.index) in ("time", "number"):
        return df.iloc[np.argsort(np.asarray(df.index), kind="stable")]
    return df


def _doy(images: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Day of year (1-366, UTC) and year of each image; -1 for an image without a date."""
    t = [img.properties.get("system:time_start") for img in images]
    times = pd.to_datetime([np.nan if v is None else v for v in t], unit="ms")
    doy = np.where(times.isna(), -1, times.day_of_year.fillna(-1)).astype("i8")
    year = np.where(times.isna(), -1, times.year.fillna(-1)).astype("i8")
    return doy, year


def reduce_values(reducer: Any, values: np.ndarray) -> float:
    """Apply a single-output ``ee.Reducer`` to plain numbers (non-finite ones left out), unweighted.

    The numbers are one column for :func:`reducer.reducers.reduce_columns`; the result is NaN when
    there is no value.

    Examples
    --------
    >>> from reducer.reducers import Reducer
    >>> reduce_values(Reducer.mean(), np.array([1.0, 2.0, np.nan, 6.0]))
    3.0
    >>> reduce_values(Reducer.median(), np.array([1.0, 2.0, 6.0, 10.0]))
    4.0
    >>> reduce_values(Reducer.max(), np.array([np.nan]))
    nan
    """
    v = np.asarray(values, dtype="f8")
    v = v[np.isfinite(v)]
    out = reducer.outputs[0]
    if not AGGREGATIONS[out.stat].scalar:
        raise ArgumentError(
            f"reducer {out.stat!r} gives a list or dictionary, not a number. Use a reducer with a number output "
            "such as ee.Reducer.mean(), median(), min(), max(), count() or stdDev()."
        )
    got = reduce_columns(reducer, [v.tolist()], ["value"], where="ui.Chart")[out.name]
    return np.nan if got is None else float(got)


class ImageCharts:
    """``ee.ui.Chart.image``: charts of image collections reduced over regions."""

    @staticmethod
    def series(
        imageCollection: Any,
        region: Any,
        reducer: Any = None,
        scale: float | None = None,
        xProperty: str = "system:time_start",
    ) -> Chart:
        """One series per band: ``reducer`` (default mean) over ``region`` for each image, against ``xProperty``.

        Examples
        --------
        >>> import numpy as np, xarray as xr, rioxarray
        >>> from affine import Affine
        >>> from reducer import Image, ImageCollection, Geometry
        >>> arr = xr.DataArray(np.ones((2, 2)), dims=("y", "x"))
        >>> arr = arr.rio.write_crs("EPSG:4326").rio.write_transform(Affine(1, 0, 10, 0, -1, 50))
        >>> ic = ImageCollection([Image(arr * k, time=f"2024-0{k}-01").rename("NDVI") for k in (1, 2, 3)])
        >>> chart = ImageCharts.series(ic, Geometry.Point([10.5, 49.5]))
        >>> chart.to_pandas()
        band        NDVI
        time
        2024-01-01   1.0
        2024-02-01   2.0
        2024-03-01   3.0
        >>> round(chart.trends(per="year")["NDVI"], 3)
        12.17
        """
        ic = _collection(imageCollection, "ui.Chart.image.series")
        red = _single_output(reducer, "ui.Chart.image.series")
        fc = _one_region(region)
        output = red.outputs[0].name

        def run() -> pd.DataFrame:
            _, per_image = _reduce(ic, fc, red, scale)
            bands: list[str] = []
            for img in ic.rasters:
                bands.extend(b.name for b in img.bands if b.name not in bands)
            data = np.full((len(per_image), len(bands)), np.nan)
            for k, (_, vals) in enumerate(per_image):
                for (band, _), v in vals.items():
                    data[k, bands.index(band)] = v[0]
            df = pd.DataFrame(data, index=_x_values(ic.rasters, xProperty), columns=pd.Index(bands, name="band"))
            return _sorted(df)

        bands0 = [b.name for b in ic.rasters[0].bands] if ic.rasters else []
        labels = {
            "x": _x_label(xProperty),
            "y": f"{output} of {bands0[0]}" if len(bands0) == 1 else output,
            "legend": "Band",
            "title": f"{output} over the region",
        }
        return Chart(_data=Thunk(run), _labels=labels)

    @staticmethod
    def seriesByRegion(
        imageCollection: Any,
        regions: Any,
        reducer: Any = None,
        band: Any = None,
        scale: float | None = None,
        xProperty: str = "system:time_start",
        seriesProperty: str = "system:index",
    ) -> Chart:
        """One series per region: ``reducer`` of ``band`` (the first by default) over each feature.

        The series are named by each feature's ``seriesProperty`` (its id by default), in the order of
        the features; the legend's title is ``seriesProperty``.
        """
        ic = _collection(imageCollection, "ui.Chart.image.seriesByRegion")
        red = _single_output(reducer, "ui.Chart.image.seriesByRegion")
        fc = regions if isinstance(regions, FeatureCollection) else FeatureCollection(regions)
        if band is None:
            if not ic.rasters or not ic.rasters[0].bands:
                raise ArgumentError("ui.Chart.image.seriesByRegion: the collection is empty; nothing to chart.")
            band = ic.rasters[0].bands[0].name
        selected = ic.select(band)
        band_name = str(band) if isinstance(band, str) else selected.rasters[0].bands[0].name
        output = red.outputs[0].name

        def run() -> pd.DataFrame:
            gdf, per_image = _reduce(selected, fc, red, scale)
            if seriesProperty == "system:index":
                names = [str(i) for i in gdf.index]
            elif seriesProperty in gdf.columns:
                names = [str(v) for v in gdf[seriesProperty].tolist()]
            else:
                raise ArgumentError(
                    f"ui.Chart.image.seriesByRegion: seriesProperty {seriesProperty!r} is not a property of the "
                    f"regions. Available: {[c for c in gdf.columns if c != 'geometry']!r}."
                )
            data = np.full((len(per_image), len(gdf)), np.nan)
            for k, (_, vals) in enumerate(per_image):
                for v in vals.values():
                    data[k] = v
            df = pd.DataFrame(data, index=_x_values(selected.rasters, xProperty), columns=pd.Index(names))
            df.columns.name = seriesProperty
            return _sorted(df)

        labels = {
            "x": _x_label(xProperty),
            "y": f"{output} of {band_name}",
            "legend": seriesProperty,
            "title": f"{output} of {band_name} by {seriesProperty}",
        }
        return Chart(_data=Thunk(run), _labels=labels)

    @staticmethod
    def doySeries(
        imageCollection: Any,
        region: Any,
        regionReducer: Any = None,
        scale: float | None = None,
        yearReducer: Any = None,
        startDay: int = 1,
        endDay: int = 366,
    ) -> Chart:
        """One series per band against the day of year, the same day of different years combined.

        Each image is reduced over ``region`` with ``regionReducer``; the values of one day of year in
        different years are combined with ``yearReducer`` (both mean by default). Images outside
        ``startDay``..``endDay`` are left out.
        """
        ic = _collection(imageCollection, "ui.Chart.image.doySeries")
        red = _single_output(regionReducer, "ui.Chart.image.doySeries")
        year_red = _single_output(yearReducer, "ui.Chart.image.doySeries (yearReducer)")
        fc = _one_region(region)
        output = red.outputs[0].name

        def run() -> pd.DataFrame:
            doy, _ = _doy(ic.rasters)
            keep = [k for k in range(len(ic.rasters)) if startDay <= doy[k] <= endDay]
            sub = ImageCollection([ic.rasters[k] for k in keep])
            _, per_image = _reduce(sub, fc, red, scale)
            bands: list[str] = []
            for img in sub.rasters:
                bands.extend(b.name for b in img.bands if b.name not in bands)
            days = sorted({int(doy[k]) for k in keep})
            data = np.full((len(days), len(bands)), np.nan)
            for j, band in enumerate(bands):
                for i, d in enumerate(days):
                    vals = [
                        v[(band, output)][0]
                        for k, (_, v) in zip(keep, per_image, strict=True)
                        if doy[k] == d and (band, output) in v
                    ]
                    data[i, j] = reduce_values(year_red, np.array(vals)) if vals else np.nan
            return pd.DataFrame(data, index=pd.Index(days, name="day of year"), columns=pd.Index(bands, name="band"))

        labels = {"x": "Day of year", "y": output, "legend": "Band", "title": f"{output} by day of year"}
        return Chart(_data=Thunk(run), _labels=labels)

    @staticmethod
    def doySeriesByYear(
        imageCollection: Any,
        bandName: str,
        region: Any,
        regionReducer: Any = None,
        scale: float | None = None,
        sameDayReducer: Any = None,
        startDay: int = 1,
        endDay: int = 366,
    ) -> Chart:
        """One series per year against the day of year, for the band ``bandName``.

        Each image is reduced over ``region`` with ``regionReducer``; images of the same day in one year
        are combined with ``sameDayReducer`` (both mean by default). Images outside
        ``startDay``..``endDay`` are left out.
        """
        ic = _collection(imageCollection, "ui.Chart.image.doySeriesByYear")
        red = _single_output(regionReducer, "ui.Chart.image.doySeriesByYear")
        same = _single_output(sameDayReducer, "ui.Chart.image.doySeriesByYear (sameDayReducer)")
        fc = _one_region(region)
        selected = ic.select(bandName)
        output = red.outputs[0].name

        def run() -> pd.DataFrame:
            doy, year = _doy(selected.rasters)
            keep = [k for k in range(len(selected.rasters)) if startDay <= doy[k] <= endDay]
            sub = ImageCollection([selected.rasters[k] for k in keep])
            _, per_image = _reduce(sub, fc, red, scale)
            values = {k: next(iter(v.values()))[0] for k, (_, v) in zip(keep, per_image, strict=True)}
            days = sorted({int(doy[k]) for k in keep})
            years = sorted({int(year[k]) for k in keep})
            data = np.full((len(days), len(years)), np.nan)
            for j, y in enumerate(years):
                for i, d in enumerate(days):
                    vals = [values[k] for k in keep if year[k] == y and doy[k] == d]
                    if vals:
                        data[i, j] = reduce_values(same, np.array(vals))
            cols = pd.Index([str(y) for y in years], name="year")
            return pd.DataFrame(data, index=pd.Index(days, name="day of year"), columns=cols)

        labels = {
            "x": "Day of year",
            "y": f"{output} of {bandName}",
            "legend": "Year",
            "title": f"{output} of {bandName} by day of year",
        }
        return Chart(_data=Thunk(run), _labels=labels)


class FeatureCharts:
    """``ee.ui.Chart.feature``: charts of feature properties."""

    @staticmethod
    def byFeature(features: Any, xProperty: str | None = None, yProperties: Any = None) -> Chart:
        """One point per feature: x is ``xProperty`` (the id by default), one series per y property.

        ``yProperties`` is a name or a list of names; by default every numeric property (not the
        ``system:`` ones).

        Examples
        --------
        >>> from reducer import Feature, FeatureCollection
        >>> fc = FeatureCollection([Feature(None, {"name": n, "a": a, "b": 2 * a}) for n, a in [("x", 1), ("y", 3)]])
        >>> FeatureCharts.byFeature(fc, "name", ["a", "b"]).to_pandas()
              a  b
        name
        x     1  2
        y     3  6
        """
        fc = features if isinstance(features, FeatureCollection) else FeatureCollection(features)
        xprop = "system:index" if xProperty is None else str(xProperty)
        yprops = unwrap(yProperties)
        if isinstance(yprops, str):
            yprops = [yprops]

        def run() -> pd.DataFrame:
            gdf = fc.to_geopandas()
            table = pd.DataFrame(gdf.drop(columns="geometry"))
            if xprop == "system:index":
                x = pd.Index([str(i) for i in gdf.index], name=xprop)
            elif xprop in table.columns:
                x = pd.Index(table[xprop].to_numpy(), name=xprop)
            else:
                raise ArgumentError(
                    f"ui.Chart.feature.byFeature: xProperty {xprop!r} is not a property. "
                    f"Available: {list(table.columns)!r}."
                )
            if yprops is None:
                names = [
                    c
                    for c in table.columns
                    if c != xprop and not c.startswith("system:") and pd.api.types.is_numeric_dtype(table[c])
                ]
            else:
                names = [str(unwrap(p)) for p in yprops]
                missing = [n for n in names if n not in table.columns]
                if missing:
                    raise ArgumentError(
                        f"ui.Chart.feature.byFeature: yProperties {missing!r} are not properties. "
                        f"Available: {list(table.columns)!r}."
                    )
            df = table[names].apply(pd.to_numeric, errors="coerce")
            df.index = x
            df.columns = pd.Index(names)
            return _sorted(df) if _x_kind(x) == "number" else df

        labels = {"x": xprop, "y": ", ".join(yprops) if yprops else "value", "legend": "Property"}
        return Chart(_data=Thunk(run), _labels=labels)


Chart.image = ImageCharts  # type: ignore[attr-defined]
Chart.feature = FeatureCharts  # type: ignore[attr-defined]
