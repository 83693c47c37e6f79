"""The one resolver of computed arguments: every public facade method goes through it."""

from __future__ import annotations

import inspect

import pytest

import reducer as ee
from reducer.arguments import resolve
from reducer.errors import ArgumentError

FACADES = [ee.Image, ee.ImageCollection, ee.Feature, ee.FeatureCollection, ee.Reducer, ee.Geometry, ee.Date]


@pytest.mark.parametrize("cls", FACADES, ids=lambda c: c.__name__)
def test_every_public_method_goes_through_the_resolver(cls):
    unwrapped = []
    for name, member in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        fn = member.__func__ if isinstance(member, staticmethod) else member
        if inspect.isfunction(fn) and not hasattr(fn, "__wrapped__"):
            unwrapped.append(name)
    assert unwrapped == []


def test_computed_arguments_to_constructors():
    assert ee.Reducer.percentile(ee.List([10, 90])).getOutputs().getInfo() == ["p10", "p90"]
    assert ee.Geometry.Point(ee.List([1, 2])).coordinates().getInfo() == [1, 2]
    assert ee.Date(date="2024-01-01").millis().getInfo() == 1704067200000
    assert ee.Reducer.mean().repeat(ee.Number(2)).numInputs() == ee.Reducer.mean().repeat(2).numInputs() == 2


def test_resolve_is_recursive_and_keeps_other_objects():
    img = ee.Image(1)
    out = resolve({"a": [ee.Number(1).add(1), img], "b": ee.String("x")})
    assert out["a"][0] == 2 and out["a"][1] is img and out["b"] == "x"
    lazy = ee.Number(2).add(1)
    assert resolve(lazy, evaluate=False) is lazy  # lazy methods keep unevaluated values


def test_unknown_keywords_and_bad_reducer_names():
    with pytest.raises(ArgumentError, match=r"Unrecognized arguments \['scael'\] to function: Image.reduceRegion"):
        ee.Image(1).reduceRegion(ee.Reducer.mean(), scael=30)
    with pytest.raises(ArgumentError, match="not the name of an ee.Reducer"):
        ee.Image(1).reduceRegion("avg")
    with pytest.raises(ArgumentError, match="needs arguments"):
        ee.Image(1).reduceRegion("percentile")
    with pytest.raises(ArgumentError, match="given twice"):
        ee.Feature(None, properties={}, opt_properties={})
