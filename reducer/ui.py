"""``ee.ui``: the chart part of Earth Engine's client UI, drawn with matplotlib.

``ee.ui.Chart.image.series``, ``seriesByRegion``, ``doySeries``, ``doySeriesByYear`` and
``ee.ui.Chart.feature.byFeature`` work as in Earth Engine, and ``ee.ui.Chart(dataTable)`` draws a
table; see :mod:`reducer.chart`. Widgets (panels, maps, buttons) are not provided.

Examples
--------
>>> import reducer as ee
>>> chart = ee.ui.Chart([["x", "y"], [1, 2.0], [2, 4.0]]).setOptions({"title": "y by x"})
>>> chart.getDataTable()
[['x', 'y'], [1, 2.0], [2, 4.0]]
"""

from __future__ import annotations

from .chart import Chart

__all__ = ["Chart"]
