"""ee.Join: every kind, with equals/maxDifference/withinDistance/lessThan conditions, against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

import reducer as ee
from reducer.errors import ArgumentError
from tests.common import CRS, ORIGIN, VALUES_3x3, write_tif

DAY = 86_400_000
BY_INDEX = ee.Filter.equals(leftField="system:index", rightField="system:index")


@pytest.fixture
def s2(tmp_path):
    """Three 'Sentinel-2' scenes and cloud probabilities for two of them, written in another order."""
    rng = np.random.default_rng(13)
    scenes = {}
    for k, name in enumerate(["20240101T100000_T33UUP", "20240111T100000_T33UUP", "20240121T100000_T33UUP"]):
        b4 = (VALUES_3x3 * (k + 1)).astype("float32")
        prob = rng.integers(0, 100, (3, 3)).astype("float32")
        write_tif(tmp_path / f"{name}.tif", b4, descriptions=["B4"])
        if k != 1:  # the second scene has no probability
            write_tif(tmp_path / f"prob_{name}.tif", prob, descriptions=["probability"])
        scenes[name] = (b4, prob)
    primary = ee.ImageCollection([str(p) for p in sorted(tmp_path.glob("2024*.tif"))])
    probs = sorted(tmp_path.glob("prob_*.tif"), reverse=True)
    secondary = ee.ImageCollection([str(p) for p in probs]).map(
        lambda i: i.set("system:index", ee.String(i.get("system:index")).slice(5))
    )
    return primary, secondary, scenes


def test_sentinel2_cloud_probability_join(s2):
    primary, secondary, scenes = s2
    joined = ee.Join.saveFirst("s2cloudless").apply(primary, secondary, BY_INDEX)
    assert joined.size().getInfo() == 2  # the scene without a probability is dropped
    assert joined.aggregate_array("system:index").getInfo() == ["20240101T100000_T33UUP", "20240121T100000_T33UUP"]

    def mask_clouds(img):
        clouds = ee.Image(img.get("s2cloudless")).select("probability")
        return img.updateMask(clouds.lt(50))

    region = ee.Geometry(shapely.box(ORIGIN[0], ORIGIN[1] - 3, ORIGIN[0] + 3, ORIGIN[1]), CRS)
    means = (
        joined.map(mask_clouds)
        .map(lambda i: i.set(i.reduceRegion(ee.Reducer.mean(), region, 1)))
        .aggregate_array("B4")
        .getInfo()
    )
    expected = []
    for name in ("20240101T100000_T33UUP", "20240121T100000_T33UUP"):
        b4, prob = scenes[name]
        keep = prob < 50
        expected.append(float(b4[keep].mean()) if keep.any() else None)
    assert means == pytest.approx(expected)
    # outer keeps the scene without a match, without the property
    outer = ee.Join.saveFirst("s2cloudless", outer=True).apply(primary, secondary, BY_INDEX)
    assert outer.size().getInfo() == 3
    assert outer.toList(3).get(1).getInfo()["properties"].get("s2cloudless") is None


def _points(coords, **columns):
    feats = []
    for k, (x, y) in enumerate(coords):
        feats.append(ee.Feature(ee.Geometry.Point([x, y]), {name: vals[k] for name, vals in columns.items()}))
    return ee.FeatureCollection(feats)


def test_simple_inverted_inner_on_a_property():
    a = _points([(0, 0), (1, 0), (2, 0), (3, 0)], k=[1, 2, 3, 4])
    b = _points([(0, 1), (1, 1), (2, 1)], k=[2, 4, 4], v=[20, 40, 41])
    cond = ee.Filter.equals(leftField="k", rightField="k")
    pairs = [(ka, kb) for ka in (1, 2, 3, 4) for kb in (2, 4, 4) if ka == kb]  # brute force
    assert ee.Join.simple().apply(a, b, cond).aggregate_array("k").getInfo() == sorted({p[0] for p in pairs})
    assert ee.Join.inverted().apply(a, b, cond).aggregate_array("k").getInfo() == [
        k for k in (1, 2, 3, 4) if k not in {p[0] for p in pairs}
    ]
    inner = ee.Join.inner().apply(a, b, cond).getInfo()["features"]
    assert len(inner) == len(pairs)
    got = [
        (f["properties"]["primary"]["properties"]["k"], f["properties"]["secondary"]["properties"]["v"]) for f in inner
    ]
    assert got == [(2, 20), (4, 40), (4, 41)]
    assert all(f["geometry"] is None for f in inner)
    named = ee.Join.inner("a", "b").apply(a, b, cond).first().getInfo()["properties"]
    assert set(named) == {"a", "b"}


def test_save_all_with_ordering_and_less_than():
    a = _points([(0, 0), (1, 0)], t=[5, 15])
    b = _points([(0, 0)] * 4, t=[1, 12, 3, 9], name=["w", "x", "y", "z"])
    cond = ee.Filter.lessThan(leftField="t", rightField="t")  # primary.t < secondary.t
    out = ee.Join.saveAll("later", ordering="t", ascending=False).apply(a, b, cond).getInfo()["features"]
    for f, t in zip(out, (5,), strict=True):
        expected = sorted([(tb, n) for tb, n in zip([1, 12, 3, 9], "wxyz", strict=True) if t < tb], reverse=True)
        got = [m["properties"]["name"] for m in f["properties"].get("later", [])]
        assert got == [n for _, n in expected]
    assert len(out) == 1  # the second has no later element and is dropped (outer=False)
    gt = ee.Join.simple().apply(a, b, ee.Filter.greaterThan(leftField="t", rightField="t"))
    assert gt.aggregate_array("t").getInfo() == [5, 15]


def test_max_difference_in_time_and_save_best(tmp_path):
    times = [0, 10 * DAY, 20 * DAY]
    secondary_times = [1 * DAY, 8 * DAY, 9 * DAY, 40 * DAY]
    prim = ee.ImageCollection([ee.Image(k).set("system:time_start", t) for k, t in enumerate(times)])
    sec = ee.ImageCollection([ee.Image(10 + k).set("system:time_start", t) for k, t in enumerate(secondary_times)])
    cond = ee.Filter.maxDifference(2 * DAY, leftField="system:time_start", rightField="system:time_start")
    best = ee.Join.saveBest("closest", "gap").apply(prim, sec, cond)
    got = {
        f["properties"]["system:time_start"]: (
            f["properties"]["closest"]["properties"]["system:time_start"],
            f["properties"]["closest"]["properties"]["gap"],
        )
        for f in best.getInfo()["features"]
    }
    expected = {}
    for t in times:  # brute force: the closest within two days
        cands = [(abs(t - s), s) for s in secondary_times if abs(t - s) <= 2 * DAY]
        if cands:
            gap, s = min(cands)
            expected[t] = (s, float(gap))
    assert got == expected
    # saveFirst with a measureKey stores the difference on the saved image
    first = ee.Join.saveFirst("m", measureKey="gap").apply(prim, sec, cond).first()
    assert ee.Image(first.get("m")).get("gap").getInfo() == float(abs(times[0] - secondary_times[0]))
    # the filter alone (a value on the right): images within a day of day 9
    near = sec.filter(ee.Filter.maxDifference(DAY, "system:time_start", 9 * DAY))
    assert near.aggregate_array("system:time_start").getInfo() == [
        s for s in secondary_times if abs(s - 9 * DAY) <= DAY
    ]


def test_within_distance_against_geodesic_distances():
    rng = np.random.default_rng(5)
    pa = [(float(x), float(y)) for x, y in zip(rng.uniform(10, 10.05, 8), rng.uniform(45, 45.05, 8), strict=True)]
    pb = [(float(x), float(y)) for x, y in zip(rng.uniform(10, 10.05, 12), rng.uniform(45, 45.05, 12), strict=True)]
    a = _points(pa, i=list(range(8)))
    b = _points(pb, j=list(range(12)))
    geod = Geod(ellps="WGS84")
    limit = 1500.0
    cond = ee.Filter.withinDistance(limit, leftField=".geo", rightField=".geo")
    out = (
        ee.Join.saveAll("near", measureKey="d")
        .apply(
            a,
            b,
            cond,
        )
        .getInfo()["features"]
    )
    got = {
        f["properties"]["i"]: {m["properties"]["j"]: m["properties"]["d"] for m in f["properties"]["near"]} for f in out
    }
    for i, (x, y) in enumerate(pa):
        dist = {j: geod.inv(x, y, u, v)[2] for j, (u, v) in enumerate(pb)}
        near = {j: d for j, d in dist.items() if d <= limit}
        # pairs within a metre of the limit may go either way; the rest must agree
        assert {j for j in got.get(i, {}) if abs(dist[j] - limit) > 1} == {j for j in near if abs(near[j] - limit) > 1}
        for j, d in got.get(i, {}).items():
            assert d == pytest.approx(dist[j], abs=0.5)


def test_bad_join_input():
    fc = _points([(0, 0)], k=[1])
    with pytest.raises(ArgumentError, match="cannot be a join condition"):
        ee.Join.simple().apply(fc, fc, ee.Filter.notNull(["k"]))
    with pytest.raises(ArgumentError, match="has no measure"):
        ee.Join.saveBest("m", "d").apply(fc, fc, ee.Filter.equals(leftField="k", rightField="k")).getInfo()
    with pytest.raises(ArgumentError, match="must be an ee.ImageCollection or ee.FeatureCollection"):
        ee.Join.simple().apply([1], fc, ee.Filter.equals(leftField="k", rightField="k"))
    with pytest.raises(ArgumentError, match="cannot be built directly"):
        ee.Join()
    with pytest.raises(ArgumentError, match="not a geometry"):
        ee.Filter.withinDistance(10, leftField="k", rightField=".geo")
