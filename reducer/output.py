"""Result shapes beyond ``getInfo()``: xarray cubes of reductions over time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import ArgumentError

__all__ = ["reduction_to_xarray"]


def reduction_to_xarray(reduction: Any) -> Any:
    """A reduction as an ``xarray.Dataset`` with dims ``(feature, time)`` and one variable per output.

    ``time`` holds each image's ``system:time_start`` (NaT when an image has none), with the image ids
    as the ``image_id`` coordinate along it. Features with no valid pixel are NaN.
    """
    import xarray as xr

    gdf, per_image = reduction.result()
    if not per_image:
        raise ArgumentError("to_xarray: the collection has no image. Check the filters.")
    names: list[str] = []
    for columns, _ in per_image:
        for c in columns:
            if c.name not in names:
                names.append(c.name)
    n = len(gdf)
    data = {name: np.full((n, len(per_image)), np.nan) for name in names}
    for k, (_, values) in enumerate(per_image):
        for name, v in values.items():
            if np.asarray(v).dtype == object and data[name].dtype != object:
                data[name] = data[name].astype(object)  # dict- or list-valued outputs (histograms, lists)
            data[name][:, k] = v
    times = [img._props.get("system:time_start") for img in reduction.images]
    time = pd.to_datetime([np.nan if t is None else t for t in times], unit="ms")
    image_ids = [str(img._props.get("system:index", k)) for k, img in enumerate(reduction.images)]
    coords = {"feature": [str(i) for i in gdf.index], "time": time, "image_id": ("time", image_ids)}
    return xr.Dataset({name: (("feature", "time"), arr) for name, arr in data.items()}, coords=coords)
