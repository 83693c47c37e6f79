"""Kernels, reduceNeighborhood and the focal filters against brute-force numpy oracles on real GeoTIFFs.

The oracle walks every pixel and every kernel cell in plain Python: a neighbour counts when it is
inside the raster and not masked, with its kernel value as weight. The rasters are tiled in 16-pixel
blocks with ``TARGET_BLOCK`` forced small, so every neighbourhood that crosses a dask block boundary
is checked too.
"""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

import reducer as ee
from reducer.errors import ArgumentError, BandError
from reducer.grid import resolve_grid
from reducer.neighborhood import Kernel
from tests.common import CRS, write_tif

H, W = 37, 35
NODATA = -9999.0


def _data(seed: int = 0, levels: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, levels, (H, W)).astype("float32") if levels else rng.normal(50, 10, (H, W)).astype("float32")
    a[rng.random((H, W)) < 0.08] = NODATA  # scattered masked pixels
    a[0, 0] = NODATA  # a masked corner
    a[15:18, 15:18] = NODATA  # a masked hole on a block boundary (blocks of 16)
    return a


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr("reducer.sources.files.TARGET_BLOCK", 8)


def _image(tmp_path, a: np.ndarray, name: str = "a.tif", res: float = 10.0) -> ee.Image:
    t = Affine(res, 0, 500000, 0, -res, 4000000)
    return ee.Image(str(write_tif(tmp_path / name, a, transform=t, nodata=NODATA, tiled=True, blocksize=16)))


def _pixels(img: ee.Image, grid=None) -> np.ndarray:
    band = img.raster.bands[0]
    g = grid if grid is not None else band.grid
    arr = band.on(g)
    return arr.compute()


def _oracle(a: np.ndarray, matrix: np.ndarray, stat: str, skip_masked: bool = False) -> np.ndarray:
    """Per pixel, ``stat`` of the valid in-raster neighbours under ``matrix`` (centred), by brute force."""
    a = np.where(a == NODATA, np.nan, a.astype("f8"))
    kh, kw = matrix.shape
    cy, cx = kh // 2, kw // 2
    out = np.full(a.shape, np.nan)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if skip_masked and np.isnan(a[i, j]):
                continue
            vals, wts = [], []
            for r in range(kh):
                for c in range(kw):
                    ii, jj = i + r - cy, j + c - cx
                    if matrix[r, c] == 0 or not (0 <= ii < a.shape[0] and 0 <= jj < a.shape[1]):
                        continue
                    if not np.isnan(a[ii, jj]):
                        vals.append(a[ii, jj])
                        wts.append(matrix[r, c])
            if not vals:
                out[i, j] = 0.0 if stat == "count" else np.nan
                continue
            v, w = np.array(vals), np.array(wts)
            if stat == "mean":
                out[i, j] = (v * w).sum() / w.sum()
            elif stat == "sum":
                out[i, j] = (v * w).sum()
            elif stat == "min":
                out[i, j] = v.min()
            elif stat == "max":
                out[i, j] = v.max()
            elif stat == "count":
                out[i, j] = len(v)
            elif stat == "median":
                out[i, j] = np.median(v)
            elif stat == "mode":
                uniq, counts = np.unique(v, return_counts=True)
                out[i, j] = uniq[np.argmax(counts)]  # ties: the smallest value
    return out


# -- kernels: Earth Engine's documented weight matrices --------------------------------------------

# The ee.Kernel API pages print each kernel of radius 3 (normalized); the counts of non-zero cells
# below are read off those matrices (e.g. circle: 1 + 5 + 5 + 7 + 5 + 5 + 1 = 29 cells of 0.034).
DOCUMENTED = {
    "circle": [[0, 0, 0, 1, 0, 0, 0], [0, 1, 1, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1, 0], [1] * 7,
               [0, 1, 1, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1, 0], [0, 0, 0, 1, 0, 0, 0]],
    "octagon": [[0, 0, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1, 0], [1] * 7, [1] * 7, [1] * 7,
                [0, 1, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 0, 0]],
    "diamond": [[0, 0, 0, 1, 0, 0, 0], [0, 0, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1, 0], [1] * 7,
                [0, 1, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 0, 0], [0, 0, 0, 1, 0, 0, 0]],
    "plus": [[0, 0, 0, 1, 0, 0, 0]] * 3 + [[1] * 7] + [[0, 0, 0, 1, 0, 0, 0]] * 3,
    "cross": [[1 if abs(r - 3) == abs(c - 3) else 0 for c in range(7)] for r in range(7)],
    "square": [[1] * 7] * 7,
}  # fmt: skip


@pytest.mark.parametrize("shape", sorted(DOCUMENTED))
def test_named_kernels_match_earth_engines_documented_matrices(shape):
    expected = np.array(DOCUMENTED[shape], dtype=float)
    m = getattr(Kernel, shape)(3).matrix()
    np.testing.assert_allclose(m, expected / expected.sum())
    raw = getattr(Kernel, shape)(3, normalize=False, magnitude=2).matrix()
    np.testing.assert_array_equal(raw, expected * 2)


def test_rectangle_and_gaussian_match_the_documented_matrices():
    np.testing.assert_allclose(Kernel.rectangle(2, 1).matrix(), np.full((3, 5), 1 / 15))
    # ee.Kernel.gaussian({radius: 3}) as printed (truncated to 1/1000): a 5×5 core
    doc = [
        [0.002, 0.013, 0.021, 0.013, 0.002],
        [0.013, 0.059, 0.098, 0.059, 0.013],
        [0.021, 0.098, 0.162, 0.098, 0.021],
        [0.013, 0.059, 0.098, 0.059, 0.013],
        [0.002, 0.013, 0.021, 0.013, 0.002],
    ]
    m = Kernel.gaussian(3).matrix()
    core = np.trunc(m * 1000) / 1000
    np.testing.assert_allclose(core[1:6, 1:6], doc)
    assert (m[0] == 0).all() and (m[:, 0] == 0).all() and (m[-1] == 0).all() and (m[:, -1] == 0).all()
    # independently: exp(-d²/2) on the 5×5 core, divided by its sum
    d2 = np.add.outer(np.arange(-2, 3) ** 2, np.arange(-2, 3) ** 2)
    g = np.exp(-d2 / 2)
    np.testing.assert_allclose(m[1:6, 1:6], g / g.sum())


def test_fixed_kernel_keeps_weights_and_focus():
    weights = [[4, 3, 2, 1, 2, 3, 4]] * 3  # the documented ee.Kernel.fixed example
    k = Kernel.fixed(weights=weights)
    np.testing.assert_array_equal(k.matrix(), np.array(weights, float))
    assert k.center() == (3, 1)
    assert Kernel.fixed(weights=[[1, 2]], x=0, y=0).center() == (0, 0)
    np.testing.assert_allclose(Kernel.fixed(weights=[[1, 3]], normalize=True).matrix(), [[0.25, 0.75]])
    with pytest.raises(ArgumentError, match="rows of numbers of one length"):
        Kernel.fixed(weights=[[1, 2], [3]])
    with pytest.raises(ArgumentError, match="outside"):
        Kernel.fixed(weights=[[1, 2]], x=5)


def test_kernel_in_meters_takes_the_grid_pixel_size():
    assert Kernel.square(30, "meters").matrix(10).shape == (7, 7)
    assert Kernel.circle(20, "meters", normalize=False).matrix(10).sum() == 13  # radius 2 pixels
    with pytest.raises(ArgumentError, match="units="):
        Kernel.square(1, "feet")


def test_kernel_getinfo():
    info = ee.Kernel.plus(1, normalize=False).getInfo()
    assert info["type"] == "Kernel.plus"
    assert info["weights"] == [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]
    assert info["center"] == [1, 1]


# -- focal filters and reduceNeighborhood against the oracle -----------------------------------------


@pytest.mark.parametrize(
    ("method", "stat", "kwargs", "matrix"),
    [
        ("focalMin", "min", {"radius": 1, "kernelType": "square"}, np.ones((3, 3))),
        ("focalMax", "max", {}, np.ones((3, 3))),  # default: circle of radius 1.5 = the 3×3 square
        ("focalMean", "mean", {"radius": 2, "kernelType": "diamond"}, Kernel.diamond(2).matrix()),
        ("focalMedian", "median", {"radius": 1, "kernelType": "plus"}, Kernel.plus(1).matrix()),
        ("focalMax", "max", {"radius": 2, "kernelType": "octagon"}, Kernel.octagon(2).matrix()),
        ("focalMin", "min", {"radius": 3, "kernelType": "cross"}, Kernel.cross(3).matrix()),
    ],
)
def test_focal_filters_match_brute_force(tmp_path, small_blocks, method, stat, kwargs, matrix):
    a = _data()
    img = _image(tmp_path, a)
    out = getattr(img, method)(**kwargs)
    arr = out.raster.bands[0].on(img.raster.grid)
    assert len(arr.chunks[0]) > 1 and len(arr.chunks[1]) > 1  # several blocks: the halo is exercised
    np.testing.assert_allclose(arr.compute(), _oracle(a, matrix, stat), rtol=1e-12, equal_nan=True)
    assert out.bandNames().getInfo() == ["B1"]


def test_focal_mode_matches_brute_force(tmp_path, small_blocks):
    a = _data(seed=3, levels=4)
    img = _image(tmp_path, a)
    np.testing.assert_array_equal(
        _pixels(img.focalMode(1, "square")), _oracle(a, np.ones((3, 3)), "mode")
    )  # fmt: skip


def test_focal_filters_fill_masked_pixels_but_reduce_neighborhood_skips_them(tmp_path, small_blocks):
    a = _data()
    img = _image(tmp_path, a)
    focal = _pixels(img.focalMean(1, "square"))
    assert np.isnan(focal[16, 16])  # the centre of the 3×3 hole has no valid neighbour
    np.testing.assert_allclose(focal, _oracle(a, np.ones((3, 3)), "mean"), equal_nan=True)
    assert not np.isnan(focal[15, 15])  # the hole's edge is filled from its valid neighbours
    rn = _pixels(img.reduceNeighborhood(ee.Reducer.mean(), ee.Kernel.square(1)))
    np.testing.assert_allclose(rn, _oracle(a, np.ones((3, 3)), "mean", skip_masked=True), equal_nan=True)
    assert np.isnan(rn[15, 15])
    kept = _pixels(img.reduceNeighborhood(ee.Reducer.mean(), ee.Kernel.square(1), skipMasked=False))
    np.testing.assert_allclose(kept, focal, equal_nan=True)


def test_focal_iterations_apply_the_filter_again(tmp_path, small_blocks):
    a = _data()
    img = _image(tmp_path, a)
    once = _oracle(a, np.ones((3, 3)), "max")
    twice = _oracle(np.where(np.isnan(once), NODATA, once), np.ones((3, 3)), "max")
    np.testing.assert_allclose(_pixels(img.focalMax(1, "square", iterations=2)), twice, equal_nan=True)


def test_reduce_neighborhood_weighted_by_the_kernel(tmp_path, small_blocks):
    a = _data(seed=1)
    img = _image(tmp_path, a)
    k = ee.Kernel.gaussian(3, 1.5)
    out = img.reduceNeighborhood(ee.Reducer.mean(), k)
    assert out.bandNames().getInfo() == ["B1_mean"]
    np.testing.assert_allclose(_pixels(out), _oracle(a, k.matrix(), "mean", True), rtol=1e-12, equal_nan=True)
    s = img.reduceNeighborhood(ee.Reducer.sum(), ee.Kernel.square(1, normalize=False))
    np.testing.assert_allclose(_pixels(s), _oracle(a, np.ones((3, 3)), "sum", True), rtol=1e-12, equal_nan=True)
    # inputWeight='mask': every valid neighbour weighs 1, whatever the kernel says
    m = img.reduceNeighborhood(ee.Reducer.mean(), k, inputWeight="mask")
    ones = (k.matrix() > 0).astype(float)
    np.testing.assert_allclose(_pixels(m), _oracle(a, ones, "mean", True), rtol=1e-12, equal_nan=True)


def test_reduce_neighborhood_combined_reducer_names_and_count(tmp_path, small_blocks):
    a = _data(seed=2)
    img = _image(tmp_path, a)
    r = ee.Reducer.min().combine(ee.Reducer.count(), sharedInputs=True)
    out = img.reduceNeighborhood(r, ee.Kernel.circle(2))
    assert out.bandNames().getInfo() == ["B1_min", "B1_count"]
    matrix = Kernel.circle(2).matrix()
    got = [b.on(img.raster.grid).compute() for b in out.raster.bands]
    np.testing.assert_allclose(got[0], _oracle(a, matrix, "min", True), equal_nan=True)
    expected_count = _oracle(a, matrix, "count", True)
    np.testing.assert_allclose(got[1], expected_count, equal_nan=True)


def test_neighborhood_is_computed_on_the_grid_the_reduction_asks_for(tmp_path, small_blocks):
    a = _data()
    img = _image(tmp_path, a)
    coarse = resolve_grid(img.raster.grid, scale=20)  # nearest: coarse pixel (i, j) is native (2i+1, 2j+1)
    padded = np.full((2 * coarse.height, 2 * coarse.width), NODATA, dtype="float32")  # beyond the raster: masked
    padded[:H, :W] = a
    native_on_coarse = padded[1::2, 1::2]
    got = _pixels(img.focalMax(1, "square"), coarse)
    np.testing.assert_allclose(got, _oracle(native_on_coarse, np.ones((3, 3)), "max"), equal_nan=True)
    # a kernel in metres follows the grid: 20 m is 2 native pixels, 1 coarse pixel
    metres = img.focalMax(kernel=ee.Kernel.square(20, "meters"))
    np.testing.assert_allclose(_pixels(metres), _oracle(a, np.ones((5, 5)), "max"), equal_nan=True)
    np.testing.assert_allclose(_pixels(metres, coarse), got, equal_nan=True)


def test_focal_value_through_reduce_region(tmp_path, small_blocks):
    a = _data()
    img = _image(tmp_path, a)
    i, j = 20, 7
    point = ee.Geometry.Point([500000 + 10 * j + 5, 4000000 - 10 * i - 5], CRS)
    got = img.focalMedian(1, "square").reduceRegion(ee.Reducer.first(), point, 10).getInfo()
    assert got["B1"] == pytest.approx(_oracle(a, np.ones((3, 3)), "median")[i, j])


def test_bad_neighborhood_arguments(tmp_path):
    img = _image(tmp_path, _data())
    with pytest.raises(ArgumentError, match="kernelType='hexagon'"):
        img.focalMax(kernelType="hexagon")
    with pytest.raises(ArgumentError, match="iterations=0"):
        img.focalMax(iterations=0)
    with pytest.raises(ArgumentError, match="not an ee.Kernel"):
        img.reduceNeighborhood(ee.Reducer.mean(), "square")
    with pytest.raises(ArgumentError, match="negative weights"):
        img.reduceNeighborhood(ee.Reducer.mean(), ee.Kernel.fixed(weights=[[1, -1, 1]]))


def test_simple_cloud_score_raises_not_implemented(tmp_path):
    img = _image(tmp_path, _data())
    with pytest.raises(NotImplementedError, match="simpleCloudScore"):
        ee.Algorithms.Landsat.simpleCloudScore(img)


def _ddt_oracle(lab: np.ndarray, step: tuple[int, int], n: int) -> np.ndarray:
    """Walk from each zero pixel by ``step`` (rows, cols), ``n`` steps at most, to the first non-zero pixel."""
    out = np.full(lab.shape, np.nan)
    unit = float(np.hypot(*step))
    for i in range(lab.shape[0]):
        for j in range(lab.shape[1]):
            if np.isnan(lab[i, j]):
                continue
            if lab[i, j] != 0:
                out[i, j] = 0.0
                continue
            for k in range(1, n + 1):
                ii, jj = i + k * step[0], j + k * step[1]
                if not (0 <= ii < lab.shape[0] and 0 <= jj < lab.shape[1]):
                    break
                if not np.isnan(lab[ii, jj]) and lab[ii, jj] != 0:
                    out[i, j] = k * unit
                    break
    return out


@pytest.mark.parametrize(
    ("angle", "step", "steps"),
    [(0, (0, 1), 6), (90, (-1, 0), 6), (180, (0, -1), 6), (270, (1, 0), 6), (45, (-1, 1), 4)],
)
def test_directional_distance_transform_matches_a_walk(tmp_path, small_blocks, angle, step, steps):
    """0° is east and 90° north (counter-clockwise); at 45° the walk visits the diagonal pixels."""
    rng = np.random.default_rng(4)
    a = (rng.random((H, W)) < 0.05).astype("float32")
    a[rng.random((H, W)) < 0.05] = NODATA
    img = _image(tmp_path, a)
    out = img.directionalDistanceTransform(angle, 6)
    assert out.bandNames().getInfo() == ["distance"]
    lab = np.where(a == NODATA, np.nan, a.astype("f8"))
    # 6 unit steps at 45° reach the diagonal pixels 1..round(6·cos 45°) = 1..4
    np.testing.assert_allclose(_pixels(out), _ddt_oracle(lab, step, steps), equal_nan=True)


def test_directional_distance_transform_label_band_carries_values(tmp_path, small_blocks):
    rng = np.random.default_rng(8)
    clouds = (rng.random((H, W)) < 0.05).astype("float32")
    height = rng.integers(1, 100, (H, W)).astype("float32")
    img = _image(tmp_path, height, "h.tif").rename("height").addBands(_image(tmp_path, clouds, "c.tif").rename("c"))
    out = img.directionalDistanceTransform(0, 5, "c")
    assert out.bandNames().getInfo() == ["height", "distance"]
    got_h = out.raster.bands[0].on(img.raster.grid).compute()
    dist = _ddt_oracle(clouds.astype("f8"), (0, 1), 5)
    for i in range(H):
        for j in range(W):
            if np.isnan(dist[i, j]):
                assert np.isnan(got_h[i, j])
            else:  # the value of the label pixel found, d columns east
                assert got_h[i, j] == height[i, j + int(round(dist[i, j]))]
    with pytest.raises(BandError):
        img.directionalDistanceTransform(0, 5)


def test_reduce_neighborhood_on_several_bands(tmp_path, small_blocks):
    """A one-input reducer runs per band; a two-input reducer (linearFit) takes the bands as x and y."""
    x = _data(seed=5)
    rng = np.random.default_rng(6)
    y = np.where(x == NODATA, NODATA, 2 * x + 3 + rng.normal(0, 1, x.shape)).astype("float32")
    img = _image(tmp_path, x, "x.tif").rename("x").addBands(_image(tmp_path, y, "y.tif").rename("y"))
    means = img.reduceNeighborhood(ee.Reducer.mean(), ee.Kernel.square(1))
    assert means.bandNames().getInfo() == ["x_mean", "y_mean"]
    got_y = means.raster.bands[1].on(img.raster.grid).compute()
    np.testing.assert_allclose(got_y, _oracle(y, np.ones((3, 3)), "mean", True), rtol=1e-12, equal_nan=True)

    fit = img.reduceNeighborhood(ee.Reducer.linearFit(), ee.Kernel.square(1))
    assert fit.bandNames().getInfo() == ["scale", "offset"]
    scale = fit.raster.bands[0].on(img.raster.grid).compute()
    xm, ym = np.where(x == NODATA, np.nan, x.astype("f8")), np.where(y == NODATA, np.nan, y.astype("f8"))
    for i, j in [(0, 1), (5, 5), (15, 14), (16, 20), (36, 34)]:  # corners, a block edge, the hole's rim
        if np.isnan(xm[i, j]):
            assert np.isnan(scale[i, j])
            continue
        wx = xm[max(0, i - 1) : i + 2, max(0, j - 1) : j + 2].ravel()
        wy = ym[max(0, i - 1) : i + 2, max(0, j - 1) : j + 2].ravel()
        ok = ~np.isnan(wx) & ~np.isnan(wy)
        slope = np.polyfit(wx[ok], wy[ok], 1)[0]
        assert scale[i, j] == pytest.approx(slope, rel=1e-9)


def test_building_reads_nothing_and_a_reduction_reads_the_touched_blocks_and_their_halo(tmp_path):
    """Building reads no pixel; a corner field reads its block and the neighbours its halo needs.

    The file is 3×3 blocks of 1024 px. One neighbourhood step at the corner reads 4 blocks; two
    chained steps (a halo of a halo) read at most the 9 around them.
    """
    import geopandas as gpd
    import shapely

    from reducer.sources import READ_COUNTER

    t = Affine(10, 0, 600000, 0, -10, 5000000)
    data = np.ones((3072, 3072), "float32")
    path = write_tif(tmp_path / "big.tif", data, transform=t, crs=CRS, tiled=True, blocksize=256)
    READ_COUNTER.reset()
    img = ee.Image(str(path))
    built = [
        (img.reduceNeighborhood(ee.Reducer.median(), ee.Kernel.circle(2)), 1.0, 4),
        (img.directionalDistanceTransform(45, 3), 0.0, 4),  # a non-zero pixel is at distance 0
        (img.focalMax(1).focalMean(kernel=ee.Kernel.gaussian(2)), 1.0, 9),
    ]
    small = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[shapely.box(600005, 4999985, 600015, 4999995)], crs=CRS))
    results = [(b.reduceRegions(small, ee.Reducer.first()), v, n) for b, v, n in built]
    assert READ_COUNTER.reads == 0
    for result, value, blocks in results:
        READ_COUNTER.reset()
        assert result.getInfo()["features"][0]["properties"]["first"] == value
        assert READ_COUNTER.reads == blocks


def test_blocks_are_reduced_in_strips_with_the_same_result(tmp_path, small_blocks, monkeypatch):
    """A tiny entry budget reduces each block a row at a time; the numbers do not change."""
    a = _data(seed=12)
    img = _image(tmp_path, a)
    monkeypatch.setattr("reducer.neighborhood.ENTRY_BUDGET", 10)
    got = _pixels(img.reduceNeighborhood(ee.Reducer.median(), ee.Kernel.circle(2)))
    np.testing.assert_allclose(got, _oracle(a, Kernel.circle(2).matrix(), "median", True), equal_nan=True)


@pytest.mark.parametrize("stat", ["median", "mean", "max", "mode"])
def test_unit_and_normalized_kernels_give_the_same_statistics(tmp_path, small_blocks, stat):
    """Unit weights take the dense path, normalized ones the weighted segments: both match the oracle."""
    a = _data(seed=13, levels=5 if stat == "mode" else None)
    img = _image(tmp_path, a)
    reducer = getattr(ee.Reducer, stat)()
    expected = _oracle(a, np.ones((3, 3)), stat, True)
    for k in (ee.Kernel.square(1, normalize=False), ee.Kernel.square(1)):
        got = _pixels(img.reduceNeighborhood(reducer, k))
        np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)
