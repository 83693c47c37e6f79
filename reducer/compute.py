"""The one place that computes: ``dask.compute`` on the active scheduler, with progress and errors.

Every pixel the library reads is read inside :func:`compute`: the engine's reductions, sampling,
point queries and charts all call it. It runs on the active ``dask.distributed`` client when there
is one (or the one ``set_options(scheduler=...)`` names), else on dask's threads; shows a progress
bar when asked or when stderr is a terminal; and gives a :class:`~reducer.errors.ReducerError` back
its own type when it lost it crossing a cluster.
"""

from __future__ import annotations

import ast
import sys
from typing import Any

import dask

from . import errors, options

__all__ = ["compute", "active_client", "show_progress", "restore_error"]


def active_client(scheduler: Any) -> Any:
    """The distributed client to run on: the one given, else the default one when no scheduler is set."""
    if "distributed" not in sys.modules:
        return None  # no client can exist, and importing distributed costs a quarter of a second
    try:
        from distributed import Client, default_client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    if isinstance(scheduler, Client):
        return scheduler
    if scheduler is None:
        try:
            return default_client()
        except ValueError:
            return None
    return None


def show_progress() -> bool:
    """Whether to show a progress bar: ``set_options(progress=...)``, else when stderr is a terminal."""
    flag = options.get("progress")
    return bool(flag) if flag is not None else sys.stderr.isatty()


def restore_error(exc: BaseException) -> BaseException:
    """A ``ReducerError`` that lost its type crossing the cluster, as its own type again.

    distributed sends a task's exception back pickled, and when that fails (a GDAL error in its
    cause chain does not unpickle) it sends ``Exception(repr(exc))``. That repr is parsed (never
    evaluated) back into the reducer error it names; anything else is returned unchanged.

    Examples
    --------
    >>> restore_error(Exception("InputFileError('cannot read pixels of a.tif')"))
    InputFileError('cannot read pixels of a.tif')
    >>> restore_error(Exception("ValueError('x')"))
    Exception("ValueError('x')")
    """
    if type(exc) is not Exception or len(exc.args) != 1 or not isinstance(exc.args[0], str):
        return exc
    try:
        node = ast.parse(exc.args[0].strip(), mode="eval").body
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords):
            return exc
        args = [ast.literal_eval(a) for a in node.args]
    except (SyntaxError, ValueError):
        return exc
    cls = getattr(errors, node.func.id, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.ReducerError)):
        return exc
    return cls(*args)


def compute(*objs: Any) -> tuple:
    """The one place that computes: on the active distributed client if any, else dask's threads.

    A progress bar goes to stderr for computations over about a second, when stderr is a terminal
    or ``set_options(progress=True)``; ``progress=False`` turns it off.
    """
    scheduler = options.get("scheduler")
    show = show_progress()
    client = active_client(scheduler)
    if client is not None:
        futures = client.compute(list(objs))
        try:
            if show:
                from distributed import as_completed
                from tqdm import tqdm

                with tqdm(total=len(futures), desc="reducer", unit="image", file=sys.stderr, delay=1.0) as bar:
                    for _ in as_completed(futures):
                        bar.update()
            return tuple(client.gather(futures))
        except Exception as exc:
            restored = restore_error(exc)
            if restored is exc:
                raise
            raise restored from None
    kwargs: dict[str, Any] = {}
    if scheduler is not None:
        kwargs["scheduler"] = scheduler
    if show:
        from dask.diagnostics import ProgressBar

        with ProgressBar(minimum=1.0, out=sys.stderr):
            return dask.compute(*objs, **kwargs)
    return dask.compute(*objs, **kwargs)
