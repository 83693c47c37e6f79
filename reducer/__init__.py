"""reducer: Earth Engine's reducers, run on your own rasters.

Port a script by changing ``import ee`` to ``import reducer as ee`` and pointing the collection at
local files. Nothing is computed until ``getInfo()``.

Layers point one way. A module imports only modules listed before it (``tests/unit/test_architecture.py``
checks it, and that there is no import cycle); ``docs/architecture.md`` explains each layer.

Import order (each module imports only modules listed before it):
errors, options, _time
grid, values, arguments, dates, daterange, algorithms, geometry, validate
stats.kernels, stats.segments, stats.aggregations, stats.evaluate, stats
reducers
raster, coverage
sources.files, sources.stac, sources.cube, sources.catalog, sources
algebra, expression, composites
compute, engine, sampling
regions, output, export
filters, features, image, collection
points, chart, ui, batch, data
reducer
demo, cli

The base (errors to validate) knows nothing of images; ``reducers`` is the ``ee.Reducer`` DSL over the
statistics core; ``raster`` is the image model every layer above works on; ``sources`` turn data into
rasters; band math works on rasters; ``compute`` is the one place that calls ``dask.compute``;
``regions`` and ``output`` run a reduction and shape its results; the Earth Engine facades
(``filters`` to ``collection``) hold models and delegate; ``demo`` and ``cli`` use the facade as a user does.
"""

from __future__ import annotations

from . import algorithms as Algorithms
from . import batch, data, errors, ui
from .algebra import Projection
from .collection import ImageCollection
from .daterange import DateRange
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
    "Algorithms",
    "ComputedObject",
    "Date",
    "DateRange",
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
    "data",
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
