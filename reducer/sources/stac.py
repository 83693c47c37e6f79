"""STAC items as images: bands from assets, properties from item metadata, no file opened to build.

Each item becomes one ``ee.Image``. Its bands are the item's raster assets (or those named), each
read lazily from the asset's file. The grid comes from the projection extension (``proj:code``
or ``proj:epsg``, ``proj:wkt2``, ``proj:projjson``; ``proj:transform``, ``proj:shape``, or
``proj:bbox`` with one of them) and the band facts from the raster extension
(``raster:bands``: ``data_type``, ``nodata``, ``scale``, ``offset``; STAC 1.1 ``bands`` as well),
on the asset or else on the item. With both known, building and filtering a collection opens no
file. An asset without them has its file's header read while the collection is built.

The item's properties become the image's, plus ``system:index`` (the item id), ``system:id``
(``<collection>/<item id>``), ``system:time_start`` (``datetime``, else ``start_datetime``),
``system:time_end`` (``end_datetime``, if given), ``proj:epsg`` (when the code is an EPSG code)
and ``system:footprint``: the item geometry as GeoJSON, which ``filterBounds`` uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine

from ..errors import BandError, CRSError, InputFileError
from ..grid import Grid, norm_crs
from ..raster import Band, FileReader, Raster, file_band
from .files import BandInfo, RasterioFileSource, check_confined, is_remote

__all__ = ["rasters_from_stac", "read_items", "raster_from_item", "walk_items"]

RASTER_MEDIA = ("image/tiff", "image/jp2", "image/vnd.stac.geotiff", "application/x-hdf")
RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".vrt", ".img")
NOT_DATA_ROLES = {"thumbnail", "overview", "metadata", "visual"}


def rasters_from_stac(
    source: Any,
    assets: Sequence[str] | None = None,
    bands: Mapping[str, str | Sequence[str]] | None = None,
    apply_scale: bool = False,
) -> list[Raster]:
    """One image per STAC item; see :meth:`reducer.ImageCollection.fromStac`."""
    items, base = read_items(source)
    return [raster_from_item(item, assets, bands, apply_scale, base) for item in items]


def read_items(source: Any) -> tuple[list[Any], str | None]:
    """The items of ``source`` and the folder that relative asset hrefs are relative to, if known.

    ``source`` is a ``pystac.ItemCollection``, a ``pystac.Catalog`` or ``Collection`` (all items,
    recursively), an ``Item``, a list of items (or item dicts), or the path of a catalog, collection,
    item or ItemCollection JSON file (or of a folder holding ``catalog.json`` or ``collection.json``).
    """
    import pystac

    if isinstance(source, pystac.ItemCollection):
        return list(source), None
    if isinstance(source, pystac.Catalog):
        return walk_items(source), None
    if isinstance(source, pystac.Item):
        return [source], None
    if isinstance(source, Mapping):
        return read_items([source])
    if isinstance(source, str | os.PathLike):
        return _read_path(str(source))
    if isinstance(source, Iterable):
        items = []
        for x in source:
            if isinstance(x, Mapping):
                x = pystac.Item.from_dict(dict(x))
            if not isinstance(x, pystac.Item):
                raise InputFileError(f"ImageCollection.fromStac: {x!r} is not a STAC item (pystac.Item or a dict).")
            items.append(x)
        return items, None
    raise InputFileError(
        f"ImageCollection.fromStac: {source!r} is not a STAC source. Give a pystac ItemCollection, Catalog or "
        "list of Items, or the path of a catalog.json or of an ItemCollection JSON file."
    )


def _read_path(path: str) -> tuple[list[Any], str | None]:
    import pystac

    p = Path(path)
    if not is_remote(path) and p.is_dir():
        for name in ("catalog.json", "collection.json"):
            if (p / name).exists():
                return _read_path(str(p / name))
        raise InputFileError(f"the folder {path!r} holds no catalog.json or collection.json. Point at the STAC file.")
    if not is_remote(path) and not p.exists():
        raise InputFileError(f"the STAC file {path!r} does not exist. Check the path and the working directory.")
    base = path.rsplit("/", 1)[0] if is_remote(path) else str(p.resolve().parent)
    try:
        obj = pystac.read_file(path)
    except pystac.STACTypeError:
        try:
            return list(pystac.ItemCollection.from_file(path)), base
        except Exception as exc:
            raise InputFileError(f"{path!r} is neither a STAC catalog nor an ItemCollection: {exc}") from exc
    except Exception as exc:
        raise InputFileError(f"cannot read the STAC file {path!r}: {exc}") from exc
    if isinstance(obj, pystac.Item):
        return [obj], base
    return walk_items(obj, confine_to=None if is_remote(path) else base), base


def walk_items(catalog: Any, confine_to: str | None = None) -> list[Any]:
    """Every item under a ``pystac.Catalog``, children followed without recursion; a link cycle is refused.

    A child link back to one of its own ancestors raises :class:`~reducer.errors.InputFileError`
    naming the catalog whose link closes the cycle and the link's target. A catalog reached twice
    by different paths (not a cycle) is read once.

    Examples
    --------
    >>> import pystac
    >>> root = pystac.Catalog("root", "r")
    >>> child = pystac.Catalog("child", "c")
    >>> _ = root.add_child(child)
    >>> child.add_link(pystac.Link("child", root))  # child -> root: a cycle
    >>> walk_items(root)
    Traceback (most recent call last):
    ...
    reducer.errors.InputFileError: STAC catalog link cycle: catalog 'child' ... to catalog 'root' ...
    """
    items: list[Any] = []
    seen_items: set[Any] = set()
    done: set[int] = set()
    # depth-first, with each catalog's ancestors (as objects; hrefs may not be set for in-memory catalogs)
    stack: list[tuple[Any, tuple[Any, ...]]] = [(catalog, ())]
    while stack:
        cat, ancestors = stack.pop()
        if id(cat) in done:
            continue
        done.add(id(cat))
        path = (*ancestors, cat)
        for item in cat.get_items(recursive=False):
            key = item.get_self_href() or id(item)
            if key not in seen_items:
                seen_items.add(key)
                items.append(item)
        for link in [*cat.get_child_links(), *cat.get_item_links()]:
            if confine_to is not None:
                check_confined(link.get_absolute_href() or link.href, confine_to, f"STAC catalog {cat.id!r}")
        for link in cat.get_child_links():
            child = link.resolve_stac_object(root=cat.get_root()).target
            if any(child is a or _same_href(child, a) for a in path):
                raise InputFileError(
                    f"STAC catalog link cycle: catalog {cat.id!r} ({cat.get_self_href() or 'in memory'}) links "
                    f"(rel='child') to catalog {child.id!r} ({link.get_absolute_href() or 'in memory'}), which "
                    "contains it. Remove that link from the catalog."
                )
            stack.append((child, path))
    return items


def _same_href(a: Any, b: Any) -> bool:
    ha, hb = a.get_self_href(), b.get_self_href()
    return ha is not None and ha == hb


# -- one item -------------------------------------------------------------------------------------


def raster_from_item(
    item: Any,
    assets: Sequence[str] | None = None,
    bands: Mapping[str, str | Sequence[str]] | None = None,
    apply_scale: bool = False,
    base: str | None = None,
) -> Raster:
    """The image of one STAC item: a band per asset band, the item's metadata as properties.

    Requested assets the item does not have give no band (the image has the bands the item has).

    The file of an asset is not opened when its grid (``proj:``) and band types (``raster:bands``)
    are in the metadata; otherwise its header is read now.
    """
    bands = dict(bands or {})
    keys = list(assets) if assets is not None else (list(bands) if bands else _default_assets(item))
    # Earth Engine collections may be heterogeneous: an item without a requested asset gives an image
    # without that band, and using the band (select, band math) raises, naming the item.
    keys = [k for k in keys if k in item.assets]
    if not keys and assets is None and not bands:
        raise BandError(
            f"STAC item {item.id!r} has no raster asset (role 'data' or a GeoTIFF media type) among "
            f"{sorted(item.assets)!r}. Name the assets with assets=[...]."
        )
    out: list[Band] = []
    for key in keys:
        out.extend(_asset_bands(item, key, bands.get(key), apply_scale, base))
    return Raster(tuple(out), _properties(item))


def _default_assets(item: Any) -> list[str]:
    data = [k for k, a in item.assets.items() if "data" in (a.roles or [])]
    if data:
        return data
    return [
        k
        for k, a in item.assets.items()
        if not (set(a.roles or []) & NOT_DATA_ROLES)
        and (
            any(m in (a.media_type or "") for m in RASTER_MEDIA)
            or a.href.lower().split("?")[0].endswith(RASTER_SUFFIXES)
        )
    ]


def _href(item: Any, key: str, base: str | None) -> str:
    asset = item.assets[key]
    href = asset.get_absolute_href() or asset.href
    if href.startswith("file://"):
        href = href[len("file://") :]
    if not is_remote(href) and not os.path.isabs(href) and base is not None:
        href = f"{base}/{href}" if is_remote(base) else os.path.normpath(os.path.join(base, href))
    if base is not None and not is_remote(base):
        check_confined(href, base, f"STAC item {item.id!r} asset {key!r}")
    return href


def _asset_bands(item: Any, key: str, names: Any, apply_scale: bool, base: str | None) -> list[Band]:
    asset = item.assets[key]
    href = _href(item, key, base)
    facts = _band_facts(asset)
    grid = _asset_grid(item, asset)
    if grid is not None and facts and all(f["dtype"] is not None for f in facts):
        src = RasterioFileSource.from_header(href, grid, [{**f, "index": k} for k, f in enumerate(facts, 1)])
    else:
        # no proj:/raster: metadata: the header is read now (the one case that opens a file to build)
        src = RasterioFileSource(href)
        if len(facts) == len(src.bands):
            # a nodata the metadata gives, where the file declares none
            src.bands = tuple(
                BandInfo(b.index, b.name, b.dtype, f["nodata"], b.use_mask) if b.nodata is None else b
                for b, f in zip(src.bands, facts, strict=True)
            )
        else:
            facts = [{} for _ in src.bands]
    n = len(src.bands)
    if names is None:
        given = [f.get("name") for f in facts]
        names = [key] if n == 1 else (given if all(given) else [f"{key}_{k}" for k in range(1, n + 1)])
    elif isinstance(names, str):
        names = [names]
    names = [str(x) for x in names]
    if len(names) != n:
        raise BandError(
            f"bands={{{key!r}: {names!r}}}: asset {key!r} of item {item.id!r} has {n} band(s). Give one name per band."
        )
    out = []
    for i, (name, f) in enumerate(zip(names, facts, strict=True)):
        scale = f.get("scale") if apply_scale else None
        offset = f.get("offset") if apply_scale else None
        scaled = (scale not in (None, 1)) or (offset not in (None, 0))
        out.append(_asset_band(name, src, i, scale if scaled else None, offset if scaled else None))
    return out


def _asset_band(name: str, src: RasterioFileSource, i: int, scale: float | None, offset: float | None) -> Band:
    """A file band of the asset (its dask array built on first use), with a reader.

    The engine then reads only the file's tiles that features touch, and resamples only the windows
    they need. With ``scale`` or ``offset`` (the STAC raster extension's), values are
    ``value * scale + offset`` in float64.
    """
    reader = src.reader(i)
    if scale is None and offset is None:
        return file_band(name, src.bands[i].dtype, partial(src.band_array, i), src.grid, reader=reader)
    s, o = 1.0 if scale is None else float(scale), 0.0 if offset is None else float(offset)
    scaled = FileReader(partial(_scaled_read, reader.read, s, o), reader.tile, "float64")
    return file_band(name, "float64", partial(_scaled_array, src, i, s, o), src.grid, reader=scaled)


def _apply_scale(a: Any, scale: float, offset: float) -> Any:
    """``a * scale + offset`` in float64, for a dask array (the band) and a numpy window alike."""
    return a.astype("f8") * scale + offset


def _scaled_array(src: RasterioFileSource, i: int, scale: float, offset: float) -> Any:
    return _apply_scale(src.band_array(i), scale, offset)


def _scaled_read(read: Any, scale: float, offset: float, window: tuple[int, int, int, int]) -> np.ndarray:
    return _apply_scale(read(window), scale, offset)


# -- metadata -------------------------------------------------------------------------------------


def _number(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, str):
        try:
            return float(v)  # "nan", "inf", "-inf"
        except ValueError:
            raise InputFileError(
                f"STAC raster metadata: {v!r} is not a number (nodata, scale or offset). Give a number, or "
                "'nan', 'inf' or '-inf' as the STAC raster extension allows."
            ) from None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InputFileError(f"STAC raster metadata: {v!r} is not a number (nodata, scale or offset). Give a number.")
    return v


def _band_facts(asset: Any) -> list[dict[str, Any]]:
    """Per band: dtype, nodata, scale, offset, name (None where unknown); [] when nothing is said."""
    from pystac.extensions.raster import AssetRasterExtension

    rbands = AssetRasterExtension(asset).bands
    eo_names = [b.get("name") for b in asset.extra_fields.get("eo:bands") or []]
    if rbands:
        return [
            {
                "dtype": _dtype(b.data_type),
                "nodata": _number(b.nodata),
                "scale": b.scale,
                "offset": b.offset,
                "name": eo_names[k] if len(eo_names) == len(rbands) else None,
            }
            for k, b in enumerate(rbands)
        ]
    f = asset.extra_fields
    common = {"dtype": _dtype(f.get("data_type")), "nodata": _number(f.get("nodata"))}
    stac11 = f.get("bands")  # STAC 1.1: bands with data_type, nodata, raster:scale, raster:offset
    if stac11:
        return [
            {
                "dtype": _dtype(b.get("data_type")) or common["dtype"],
                "nodata": _number(b.get("nodata", common["nodata"])),
                "scale": b.get("raster:scale", f.get("raster:scale")),
                "offset": b.get("raster:offset", f.get("raster:offset")),
                "name": b.get("name"),
            }
            for b in stac11
        ]
    if common["dtype"] is not None:
        return [{**common, "scale": f.get("raster:scale"), "offset": f.get("raster:offset"), "name": None}]
    return []


def _dtype(v: Any) -> str | None:
    if v is None:
        return None
    v = getattr(v, "value", v)
    if v in ("other", "cint16", "cint32", "cfloat32", "cfloat64"):
        return None
    return str(v)


def _asset_grid(item: Any, asset: Any) -> Grid | None:
    from pystac.extensions.projection import AssetProjectionExtension

    proj = AssetProjectionExtension(asset)  # asset fields, else the item's
    crs: Any = getattr(proj, "code", None) or proj.epsg or proj.wkt2 or proj.projjson  # proj:code: pystac>=1.12
    if crs is None:
        return None
    if isinstance(crs, int):
        crs = f"EPSG:{crs}"
    shape, transform, bbox = proj.shape, proj.transform, proj.bbox
    if transform is None and shape is not None and bbox is not None and len(bbox) == 4:
        xmin, ymin, xmax, ymax = bbox
        transform = [(xmax - xmin) / shape[1], 0, xmin, 0, -(ymax - ymin) / shape[0], ymax]
    if shape is None and transform is not None and bbox is not None and len(bbox) == 4:
        xmin, ymin, xmax, ymax = bbox
        shape = [round((ymax - ymin) / abs(transform[4])), round((xmax - xmin) / abs(transform[0]))]
    if shape is None or transform is None:
        return None
    if (
        len(shape) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
        or len(transform) < 6
    ):
        raise InputFileError(
            f"STAC item {item.id!r}: proj:shape {list(shape)!r} is not two positive whole numbers [rows, columns] "
            f"(or proj:transform {list(transform)!r} has fewer than 6 numbers). Fix the item's metadata."
        )
    try:
        return Grid(norm_crs(crs, f"proj: CRS of STAC item {item.id!r}"), Affine(*transform[:6]), shape[1], shape[0])
    except CRSError:
        return None


def _millis(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        from pystac.utils import str_to_datetime

        value = str_to_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return round(value.timestamp() * 1000)


def _properties(item: Any) -> dict[str, Any]:
    props = dict(item.properties)
    code = props.get("proj:code")
    if "proj:epsg" not in props and isinstance(code, str) and code.upper().startswith("EPSG:"):
        props["proj:epsg"] = int(code.split(":", 1)[1])
    props["system:index"] = item.id
    props["system:id"] = f"{item.collection_id}/{item.id}" if item.collection_id else item.id
    start = item.datetime if item.datetime is not None else item.common_metadata.start_datetime
    if start is not None:
        props["system:time_start"] = _millis(start)
    end = item.common_metadata.end_datetime
    if end is not None:
        props["system:time_end"] = _millis(end)
    geometry = item.geometry
    if geometry is None and item.bbox:
        xmin, ymin, xmax, ymax = item.bbox[:2] + item.bbox[-3:-1] if len(item.bbox) == 6 else item.bbox
        geometry = {
            "type": "Polygon",
            "coordinates": [[[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax], [xmin, ymin]]],
        }
    if geometry is not None:
        props["system:footprint"] = geometry
    return props
