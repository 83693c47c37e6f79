"""reducer: Earth Engine's reducers, run on your own rasters.

Port a script by changing ``import ee`` to ``import reducer as ee`` and pointing the collection at
local files. Nothing is computed until ``getInfo()``.

Layers point one way. A module imports only modules listed before it (``tests/unit/test_architecture.py``
checks it, and that there is no import cycle); ``docs/architecture.md`` explains each layer.

Import order (each module imports only modules listed before it):
errors, options, _time
stats.kernels, stats.segments, stats.aggregations, stats.evaluate, stats
grid, values, arguments, dates, daterange, algorithms, geometry, validate
reducers
raster, coverage
sources.files, sources.stac, sources.cube, sources.catalog, sources
algebra, neighborhood, expression, composites
compute, engine, sampling
regions, output, pixels, export, repr
filters, features, image, collection, joins
points, peers, chart, ui, batch, data
reducer
demo, cli

The leaves and the statistics core (numpy only) come first; the base (grid to validate) knows
nothing of images; ``reducers`` is the ``ee.Reducer`` DSL over the statistics core; ``raster`` is
the image model every layer above works on; ``sources`` turn data into rasters; band math works on
rasters; ``compute`` is the one place that calls ``dask.compute``; ``regions`` and ``output`` run a
reduction and shape its results; the Earth Engine facades (``filters`` to ``collection``) hold
models and delegate; ``demo`` and ``cli`` use the facade as a user does.
"""

from __future__ import annotations

from . import algorithms as _algorithms
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
from .joins import Join
from .neighborhood import Kernel, simple_cloud_score
from .options import set_options
from .peers import exact_extract, zonal_stats
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
    "Join",
    "ImageCollection",
    "Kernel",
    "Initialize",
    "Algorithms",
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
    "exact_extract",
    "export_table",
    "point_query",
    "region_to_dataframe",
    "set_catalog",
    "set_options",
    "ui",
    "zonal_stats",
]


def Initialize(*args: object, **kwargs: object) -> None:
    """Accepted for Earth Engine compatibility; does nothing."""


def Authenticate(*args: object, **kwargs: object) -> None:
    """Accepted for Earth Engine compatibility; does nothing."""


class Algorithms:
    """``ee.Algorithms``: the Earth Engine algorithms reducer has (see each for what is missing)."""

    If = staticmethod(_algorithms.If)
    IsEqual = staticmethod(_algorithms.IsEqual)

    class Landsat:
        """``ee.Algorithms.Landsat``."""

        @staticmethod
        def simpleCloudScore(image: Image) -> Image:
            """Not available: raises ``NotImplementedError`` (Earth Engine does not publish its thresholds)."""
            return Image(simple_cloud_score(Image(image).raster))
