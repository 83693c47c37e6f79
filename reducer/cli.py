"""The ``reducer`` command-line tool.

``reducer demo [DIR]`` (or ``python -m reducer demo [DIR]``) writes the built-in demo data into ``DIR``
and reduces it. Exit codes: 0 on success, 1 on a :class:`reducer.errors.ReducerError` (one line on
stderr; the traceback too with ``--debug``), 2 on bad usage.

Adding a subcommand: write ``_add_<name>(subparsers)``, which adds its parser and sets
``func=<handler>``, a function of the parsed arguments that returns an exit code; then list
``_add_<name>`` in :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["build_parser", "main"]

PROG = "reducer"
DEFAULT_DEMO_DIR = "reducer-demo"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("reducer")
    except Exception:  # not installed: running from a source tree
        return "unknown"


def _common() -> argparse.ArgumentParser:
    """Options every subcommand accepts: ``reducer --debug demo`` and ``reducer demo --debug`` both work."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    return parent


# -- subcommands -------------------------------------------------------------------------------------
def _add_demo(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "demo",
        parents=[common],
        help="write the built-in demo data and reduce it",
        description=(
            "Write a year of synthetic NDVI GeoTIFFs, 50 fields and 20 points into DIR, then compute the "
            "mean, max and min NDVI per field and date and the NDVI at each point with the Earth Engine "
            "API. Writes field_ndvi.csv, point_ndvi.csv and field_ndvi.png into DIR."
        ),
    )
    p.add_argument(
        "dir",
        nargs="?",
        default=DEFAULT_DEMO_DIR,
        metavar="DIR",
        help=f"folder for the data and the results (default: ./{DEFAULT_DEMO_DIR})",
    )
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import make_demo_data, run_demo

    folder = Path(args.dir)
    data = make_demo_data(folder)
    print(
        f"wrote {len(data['images'])} NDVI images, fields.gpkg and points.gpkg to {folder} in {data['seconds']:.2f} s"
    )
    run_demo(folder)
    return 0


#: Each adds one subcommand to the parser; see the module docstring.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction, argparse.ArgumentParser], None]] = [_add_demo]


def build_parser() -> argparse.ArgumentParser:
    """The ``reducer`` argument parser, with every subcommand in :data:`SUBCOMMANDS`.

    Examples
    --------
    >>> args = build_parser().parse_args(["demo"])
    >>> args.dir, args.debug
    ('reducer-demo', False)
    >>> build_parser().parse_args(["demo", "out", "--debug"]).debug
    True
    """
    common = _common()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Earth Engine's reducers on local rasters: zonal statistics, point values, time series.",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``reducer`` command line; return the exit code.

    Parameters
    ----------
    argv
        Arguments after the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    int
        0 on success, 1 on a :class:`reducer.errors.ReducerError` or an OS error (one line
        ``reducer: error: <message>`` on stderr), 2 on bad usage.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or bad usage (argparse printed why)
        return exc.code if isinstance(exc.code, int) else 2

    from .errors import ReducerError

    try:
        return int(args.func(args))
    except (ReducerError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
