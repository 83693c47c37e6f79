"""The one place that computes: ``dask.compute`` on the active scheduler, with progress and errors.

Every pixel the library reads is read inside :func:`compute`: the engine's reductions, sampling,
point queries and charts all call it. It runs on the active ``dask.distributed`` client when there
is one (or the one ``set_options(scheduler=...)`` names), else on dask's threads; shows a progress
bar (a widget in Jupyter, text on a terminal, none when piped; ``set_options(progress=...)``
decides); and gives a :class:`~reducer.errors.ReducerError` back its own type when it lost it
crossing a cluster.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any, Literal

import dask
import dask.threaded
from dask.base import named_schedulers
from dask.callbacks import Callback

from . import errors, options

__all__ = [
    "compute",
    "active_client",
    "show_progress",
    "progress_mode",
    "in_jupyter",
    "restore_error",
    "release_freed_memory",
    "warning_filters_kept",
]

# A local computation that ran this long hands its freed heap back to the OS (release_freed_memory). A
# trim costs about 14 ms after 100,000 polygons x 3 images (246 MB returned); with a 1 s threshold a fast
# machine skipped it, and the getInfo dict built next peaked 0.2 GB higher.
TRIM_AFTER_S = 0.1
_malloc_trim: Any = None


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


ProgressMode = Literal["widget", "text"]


def in_jupyter() -> bool:
    """True when running in a Jupyter kernel (an IPython ``ZMQInteractiveShell``)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - a broken IPython install
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _has_widgets() -> bool:
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None


def progress_mode() -> ProgressMode | None:
    """Which progress bar to show: ``"widget"`` in Jupyter, ``"text"`` on a terminal, None when piped.

    ``set_options(progress=True)`` forces a bar (the widget in Jupyter, else text) and
    ``progress=False`` turns it off; the default (None) decides from where the code runs. The widget
    needs ``ipywidgets`` (the ``notebook`` extra); without it Jupyter gets the text bar.

    Examples
    --------
    >>> from reducer.options import set_options
    >>> old = set_options(progress=False)
    >>> progress_mode() is None
    True
    >>> _ = set_options(**old)
    """
    flag = options.get("progress")
    if flag is False:
        return None
    jupyter = in_jupyter()
    if flag is None and not jupyter and not sys.stderr.isatty():
        return None
    return "widget" if jupyter and _has_widgets() else "text"


def show_progress() -> bool:
    """Whether to show a progress bar (:func:`progress_mode` is not None)."""
    return progress_mode() is not None


class _TqdmCallback(Callback):
    """A dask callback that drives a tqdm bar (the notebook widget) over a computation's tasks."""

    def __init__(self, bar_factory: Any):
        super().__init__()
        self._factory = bar_factory
        self._bar: Any = None

    def _start_state(self, dsk: Any, state: Any) -> None:
        total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished"))
        self._bar = self._factory(total=total)

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def _finish(self, dsk: Any, state: Any, errored: bool) -> None:
        if self._bar is not None:
            self._bar.close()


def _bar_factory(mode: ProgressMode) -> Any:
    """A ``tqdm`` constructor for ``mode``: the notebook widget or the text bar on stderr."""
    if mode == "widget":
        from tqdm.notebook import tqdm as bar
    else:
        from tqdm import tqdm as bar

    def make(total: int) -> Any:
        kwargs: dict[str, Any] = {"total": total, "desc": "reducer", "delay": 1.0}
        if mode == "text":
            kwargs["file"] = sys.stderr
        return bar(**kwargs)

    return make


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


def _default_scheduler(objs: tuple) -> Any:
    """The scheduler dask would pick for ``objs`` with no client: their common default (threads), or None."""
    from dask.base import is_dask_collection

    found = {getattr(o, "__dask_scheduler__", None) for o in objs if is_dask_collection(o)}
    return found.pop() if len(found) == 1 else None


@contextlib.contextmanager
def warning_filters_kept() -> Iterator[None]:
    """Give back the process's warning filters and ``showwarning`` as they were, whatever ran inside.

    ``warnings.catch_warnings`` saves and restores process-wide state, so it is not thread-safe: when
    two worker threads are inside one at once (``shapely.is_valid``, rasterio's ``rasterize`` and
    ``reproject`` each use one), the thread that leaves last restores the other's filters, and an
    "ignore every warning" filter can stay behind, silencing the rest of the process. The main
    thread waits while a computation runs, so what changed in the meantime is undone afterwards.

    Examples
    --------
    >>> before = list(warnings.filters)
    >>> with warning_filters_kept():
    ...     warnings.simplefilter("ignore")  # as a leaked filter would be
    >>> warnings.filters == before
    True
    """
    saved, show = list(warnings.filters), warnings.showwarning
    try:
        yield
    finally:
        if warnings.filters != saved:
            warnings.resetwarnings()  # also tells every module's warning registry that the filters changed
            warnings.filters.extend(saved)
        if warnings.showwarning is not show:
            warnings.showwarning = show


def compute(*objs: Any) -> tuple:
    """The one place that computes: on the active distributed client if any, else dask's threads.

    A progress bar shows for computations over about a second (:func:`progress_mode`): a widget in
    Jupyter, text on stderr on a terminal, none when piped; ``set_options(progress=...)`` decides.
    The process's warning filters are the same afterwards (:func:`warning_filters_kept`).
    """
    with warning_filters_kept():
        return _compute(*objs)


def _compute(*objs: Any) -> tuple:
    scheduler = options.get("scheduler")
    mode = progress_mode()
    show = mode is not None
    client = active_client(scheduler)
    if client is not None:
        futures = client.compute(list(objs))
        try:
            if mode is not None:
                from distributed import as_completed

                with _bar_factory(mode)(total=len(futures)) as bar:
                    for _ in as_completed(futures):
                        bar.update()
            return tuple(client.gather(futures))
        except Exception as exc:
            restored = restore_error(exc)
            if restored is exc:
                raise
            raise restored from None
    kwargs: dict[str, Any] = {}
    if isinstance(scheduler, str) and scheduler in named_schedulers:
        # the function itself: given a name, dask imports distributed to look for a client first
        kwargs["scheduler"] = named_schedulers[scheduler]
    elif scheduler is not None:
        kwargs["scheduler"] = scheduler
    elif "distributed" not in sys.modules and dask.config.get("scheduler", None) is None:
        # no client can exist: name dask's default, which dask.compute would otherwise find only after
        # importing distributed to look for a client (a quarter of a second on the first call)
        kwargs["scheduler"] = _default_scheduler(objs)
    start = time.perf_counter()
    try:
        if mode == "widget":
            with _TqdmCallback(_bar_factory(mode)):
                return dask.compute(*objs, **kwargs)
        if show:
            from dask.diagnostics import ProgressBar

            with ProgressBar(minimum=1.0, out=sys.stderr):
                return dask.compute(*objs, **kwargs)
        return dask.compute(*objs, **kwargs)
    finally:
        if time.perf_counter() - start >= TRIM_AFTER_S:
            release_freed_memory()


def release_freed_memory() -> bool:
    """Hand the heap memory freed by a computation back to the operating system; whether that could be asked.

    glibc keeps memory freed by dask's worker threads in their own heaps (arenas) for reuse, so a
    large computation leaves the process that much larger: for 100,000 polygons x 6 images, about
    100 MB that the ``getInfo`` dict built next would otherwise add to. ``malloc_trim(0)`` returns
    it (dask.distributed's workers do the same). :func:`compute` calls this after a local computation
    of :data:`TRIM_AFTER_S` (0.1 s) or more; elsewhere than glibc (macOS, musl) it does nothing and returns False.

    Examples
    --------
    >>> release_freed_memory() in (True, False)
    True
    """
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim is False:
        return False
    _malloc_trim(0)
    return True
