"""reducer: Earth Engine's reducers, run on your own rasters.

Port a script by changing ``import ee`` to ``import reducer as ee`` and pointing the collection at
local files. Nothing is computed until ``getInfo()``.

Dependencies point one way:
sources, stac, cube, catalog, geometry, features, filters, dates, values
-> image, algebra, expression, collection, composites
-> reducers, aggregations, kernels, segments, coverage
-> engine (plan, graph; the only dask.compute)
-> output, sampling, points, chart, ui, export, batch, cli.
"""

from __future__ import annotations

from . import batch, errors, ui
from .algebra import Projection
from .collection import ImageCollection
from .dates import Date
from .errors import ReducerError
from .export import export_table
from .features import Feature, FeatureCollection
from .filters import Filter
from .geometry import Geometry
from .image import Image
from .options import set_options
from .points import point_query
from .reducers import Reducer
from .sampling import region_to_dataframe
from .sources import set_catalog
from .values import ComputedObject, Dictionary, List, Number, String

__version__ = "0.1.0"

__all__ = [
    "ComputedObject",
    "Date",
    "Dictionary",
    "Feature",
    "FeatureCollection",
    "Filter",
    "Geometry",
    "Image",
    "ImageCollection",
    "Initialize",
    "Authenticate",
    "List",
    "Number",
    "Projection",
    "Reducer",
    "ReducerError",
    "String",
    "batch",
    "errors",
    "export_table",
    "point_query",
    "region_to_dataframe",
    "set_catalog",
    "set_options",
    "ui",
]


def Initialize(*args: object, **kwargs: object) -> None:
    """Accepted for Earth Engine compatibility; does nothing."""


def Authenticate(*args: object, **kwargs: object) -> None:
    """Accepted for Earth Engine compatibility; does nothing."""
