"""Properties: block kernels merge exactly, and any chunking of the raster gives the same result."""

from __future__ import annotations

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reducer as ee
from reducer.stats import AGGREGATIONS, KINDS, Segments
from reducer.stats.kernels import chunk_stats, combine_partials, scatter

DECOMPOSABLE = [a for a in AGGREGATIONS.values() if a.finalize is not None]
GATHERED = sorted(a.name for a in AGGREGATIONS.values() if a.segment is not None)
ROW_KINDS = [k for k in KINDS if k != "vals"]


@st.composite
def blocks(draw):
    """Values (2 bands) of pixels sorted by feature, weights, and a split of the pixels in two blocks."""
    n = draw(st.integers(2, 40))
    n_feat = draw(st.integers(1, 4))
    fid = np.sort(np.array(draw(st.lists(st.integers(0, n_feat - 1), min_size=n, max_size=n))))
    vals = np.array(
        draw(st.lists(st.sampled_from([np.nan, -2.0, 0.0, 0.5, 1.0, 3.0, 7.25, 10.0]), min_size=2 * n, max_size=2 * n))
    ).reshape(2, n)
    w = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n)))
    cut = draw(st.integers(1, n - 1))
    return fid, vals, w, cut


def _chunk(fid, vals, w, kinds, offset=0):
    starts = np.flatnonzero(np.r_[True, fid[1:] != fid[:-1]])
    return chunk_stats(vals, np.arange(len(fid)), w, starts, fid[starts], kinds, order=np.arange(len(fid)) + offset)


@settings(max_examples=50, deadline=None)
@given(blocks())
def test_finalize_of_combined_chunks_equals_finalize_of_whole(b):
    fid, vals, w, cut = b
    kinds = ROW_KINDS + ["vals"]
    whole = _chunk(fid, vals, w, kinds)
    # the second block's pixels may come first: combine must not depend on the order of its inputs
    parts = combine_partials(
        [_chunk(fid[cut:], vals[:, cut:], w[cut:], kinds, cut), _chunk(fid[:cut], vals[:, :cut], w[:cut], kinds)]
    )
    n_feat = int(fid.max()) + 1
    d1, d2 = scatter(whole, n_feat, 2, kinds), scatter(parts, n_feat, 2, kinds)
    for agg in DECOMPOSABLE:
        a, c = agg.finalize(d1), agg.finalize(d2)
        np.testing.assert_allclose(a, c, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=agg.name)
    g1, g2 = d1["vals"], d2["vals"]
    for x, y in zip(g1, g2, strict=True):
        np.testing.assert_array_equal(x, y)


@settings(max_examples=50, deadline=None)
@given(blocks(), st.sampled_from(GATHERED))
def test_segment_statistics_do_not_depend_on_how_entries_were_gathered(b, stat):
    fid, vals, w, cut = b
    n_feat = int(fid.max()) + 1
    params = {
        "percentile": (37.5,),
        "intervalMean": (10.0, 80.0),
        "histogram": (8, None, None),
        "autoHistogram": (8, None, None, True),
        "fixedHistogram": (-2.0, 10.0, 4, False),
        "toList": (2, 0),
        "linearRegression.coefficients": (1, 1),
        "linearRegression.residuals": (1, 1),
        "kendallsCorrelation.tau": (2,),
        "kendallsCorrelation.p-value": (2,),
    }.get(stat, ())
    rows = [0, 1] if (stat.count(".") or stat == "toList") else [0]

    def run(parts):
        g = scatter(combine_partials(parts), n_feat, 2, ["vals"])["vals"]
        seg = Segments.from_ids(g.fid, n_feat, g.weight, g.values).select(rows)
        return AGGREGATIONS[stat].segment(seg, params)

    a = run([_chunk(fid, vals, w, ["vals"])])
    c = run(
        [_chunk(fid[cut:], vals[:, cut:], w[cut:], ["vals"], cut), _chunk(fid[:cut], vals[:, :cut], w[:cut], ["vals"])]
    )
    assert repr(list(a)) == repr(list(c))


# -- whole reductions on differently chunked rasters ----------------------------------------------------

CRS = "EPSG:32633"
REDUCER = (
    ee.Reducer.median()
    .combine(ee.Reducer.percentile([5, 95]), sharedInputs=True)
    .combine(ee.Reducer.mode(), sharedInputs=True)
    .combine(ee.Reducer.first(), sharedInputs=True)
    .combine(ee.Reducer.last(), sharedInputs=True)
    .combine(ee.Reducer.toList(), sharedInputs=True)
    .combine(ee.Reducer.frequencyHistogram(), sharedInputs=True)
    .combine(ee.Reducer.skew(), sharedInputs=True)
    .combine(ee.Reducer.kurtosis(), sharedInputs=True)
    .combine(ee.Reducer.sampleVariance(), sharedInputs=True)
    .combine(ee.Reducer.product(), sharedInputs=True)
    .combine(ee.Reducer.countDistinct(), sharedInputs=True)
)
PAIR = ee.Reducer.linearFit().combine(ee.Reducer.kendallsCorrelation(2), sharedInputs=True)


def _image(arr, chunks):
    import rioxarray  # noqa: F401
    import xarray as xr

    ny, nx = arr.shape[1:]
    x = xr.DataArray(
        da.from_array(arr, chunks=(1, *chunks)),
        dims=("band", "y", "x"),
        coords={"band": ["a", "b"], "y": 100.0 - np.arange(ny) - 0.5, "x": np.arange(nx) + 0.5},
    ).rio.write_crs(CRS)
    return ee.Image(x)


@st.composite
def rasters(draw):
    ny, nx = draw(st.integers(4, 14)), draw(st.integers(4, 14))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 6, (2, ny, nx)).astype("f8")
    arr[rng.random(arr.shape) < 0.15] = np.nan
    boxes = []
    for _ in range(draw(st.integers(1, 4))):
        x0, y0 = rng.uniform(-1, nx - 1), rng.uniform(100 - ny - 1, 99)
        boxes.append(shapely.box(x0, y0, x0 + rng.uniform(0.5, 6), y0 + rng.uniform(0.5, 6)))
    chunks = (draw(st.integers(1, ny)), draw(st.integers(1, nx)))
    return arr, boxes, chunks


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rasters(), st.booleans())
def test_any_chunking_gives_the_same_result(r, weighted):
    arr, boxes, chunks = r
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=boxes, crs=CRS))
    red = REDUCER if weighted else REDUCER.unweighted()
    pair = PAIR if weighted else PAIR.unweighted()

    def run(ch):
        img = _image(arr, ch)
        one = img.select("a").reduceRegions(fc, red).getInfo()["features"]
        two = img.reduceRegions(fc, pair).getInfo()["features"]
        return [f["properties"] for f in one], [f["properties"] for f in two]

    whole, split = run(arr.shape[1:]), run(chunks)
    assert repr(whole) == repr(split) or _close(whole, split)


def _close(a, b):
    if isinstance(a, dict):
        return sorted(a) == sorted(b) and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b
