"""``ee.data``: the calls of Earth Engine's low-level module that have a local meaning.

A plain module of functions (``reducer.data`` is ``ee.data``), so more can be added beside these:

- :func:`getAsset` and :func:`getInfo` describe an id mapped by the catalog (see
  :mod:`reducer.sources.catalog`): its type, its id, its time range, and for an image its bands and
  properties. They read file headers, never pixels.
- :func:`computeValue` evaluates a computed object, as ``getInfo()`` does.

Examples
--------
>>> from reducer.values import Number
>>> computeValue(Number(2).add(3))
5
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .collection import ImageCollection
from .errors import ArgumentError, CatalogError
from .image import Image
from .sources.catalog import get_catalog, unmapped_error
from .values import ComputedObject

__all__ = ["getAsset", "getInfo", "computeValue"]

PUBLIC_PREFIX = "projects/earthengine-public/assets/"


def _iso(ms: Any) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _bare_id(asset_id: str) -> str:
    return asset_id[len(PUBLIC_PREFIX) :] if asset_id.startswith(PUBLIC_PREFIX) else asset_id


def getAsset(assetId: str) -> dict[str, Any]:  # noqa: N802, N803 - Earth Engine's names
    """Describe a catalog id as Earth Engine's ``ee.data.getAsset`` describes an asset.

    Parameters
    ----------
    assetId
        An id the catalog maps (``'COPERNICUS/S2_SR_HARMONIZED'``), with or without the
        ``projects/earthengine-public/assets/`` prefix.

    Returns
    -------
    dict
        ``type`` (``'IMAGE_COLLECTION'`` or ``'IMAGE'``), ``name`` (the full asset name), ``id``,
        ``startTime``/``endTime`` (RFC 3339, from the images' ``system:time_start``; absent without
        dates), ``source`` (the local catalog entry) and, for an image, ``bands`` (``id``,
        ``dataType``, ``crs``) and ``properties``; for a collection ``size``.

    Raises
    ------
    CatalogError
        If no catalog is set or the id is not in it (the message shows the entry to add).

    Examples
    --------
    >>> getAsset("NOT/MAPPED")
    Traceback (most recent call last):
    ...
    reducer.errors.CatalogError: ...
    """
    if not isinstance(assetId, str):
        raise ArgumentError(f"ee.data.getAsset: expected an asset id string, got {assetId!r}.")
    ee_id = _bare_id(assetId)
    cat = get_catalog()
    if cat is None or ee_id not in cat.entries:
        raise unmapped_error(ee_id, "collection")
    entry = cat.entries[ee_id]
    out: dict[str, Any] = {"name": PUBLIC_PREFIX + ee_id, "id": ee_id}
    if "path" in entry:
        raster = Image(ee_id).raster
        out["type"] = "IMAGE"
        times = [raster.properties.get("system:time_start")]
        out["bands"] = [
            {"id": b.name, "dataType": str(b.dtype), **({"crs": str(b.grid.crs)} if b.grid is not None else {})}
            for b in raster.bands
        ]
        out["properties"] = {k: v for k, v in raster.properties.items() if not k.startswith("system:")}
    else:
        rasters = ImageCollection(ee_id).rasters
        out["type"] = "IMAGE_COLLECTION"
        out["size"] = len(rasters)
        times = [r.properties.get("system:time_start") for r in rasters]
    present = [t for t in times if t is not None]
    if present:
        out["startTime"] = _iso(min(present))
        out["endTime"] = _iso(max(present))
    out["source"] = dict(entry)
    return out


def getInfo(assetId: str) -> dict[str, Any] | None:  # noqa: N802, N803 - Earth Engine's names
    """:func:`getAsset`, or None when the id is not mapped (Earth Engine's deprecated ``ee.data.getInfo``).

    Examples
    --------
    >>> getInfo("NOT/MAPPED") is None
    True
    """
    try:
        return getAsset(assetId)
    except CatalogError:
        return None


def computeValue(obj: Any) -> Any:  # noqa: N802 - Earth Engine's name
    """The value of a computed object, as ``obj.getInfo()`` gives it (plain values are returned as they are).

    Examples
    --------
    >>> from reducer.values import List
    >>> computeValue(List([3, 1, 2]).sort())
    [1, 2, 3]
    """
    if isinstance(obj, ComputedObject) or callable(getattr(obj, "getInfo", None)):
        return obj.getInfo()
    return obj
