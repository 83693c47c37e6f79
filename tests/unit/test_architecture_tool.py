"""Self-tests of ``tests/archcheck.py`` on tiny synthetic packages written to ``tmp_path``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.archcheck import (
    ORDER_HEADER,
    check_order,
    cycle_problems,
    find_cycles,
    load_package,
    parse_order,
    private_access,
    protocol_names,
    strongly_connected,
)

ORDER = "\n".join(
    ['"""A package.', "", ORDER_HEADER, "errors, _time <-- values", "stats.kernels stats  # comment", "engine"]
    + ["", "More text.", '"""', ""]
)

CLEAN = {
    "__init__.py": ORDER + "from . import engine\nfrom .values import ComputedObject\n",
    "__main__.py": "import pkg\nfrom . import engine\n",
    "errors.py": "class E(Exception):\n    pass\n",
    "_time.py": "import numpy as np\n\n\ndef now():\n    return np._NoValue\n",
    "values.py": textwrap.dedent(
        """
        from . import _time
        from .errors import E


        class ComputedObject:
            __slots__ = ("_thunk",)

            def _evaluate(self):
                return self._thunk

            @classmethod
            def _lazy(cls, f):
                return cls._of(f())

            @classmethod
            def _of(cls, v):
                return super()._hidden_in_object


        class Other(ComputedObject):
            def f(self, other):
                other._thunk = 1
                return other._evaluate(), _time.now()
        """
    ),
    "stats/__init__.py": "from .kernels import k\n",
    "stats/kernels.py": "from ..values import ComputedObject\n\n\ndef k():\n    pass\n",
    "engine.py": textwrap.dedent(
        """
        from collections import namedtuple

        from .stats import kernels
        from pkg.errors import E

        P = namedtuple("P", "a b")


        def run(x):
            from . import values

            p = P(1, 2)._replace(a=3)
            return values.ComputedObject._lazy(lambda: x._evaluate()), kernels, E, p
        """
    ),
}


def write_package(root: Path, files: dict[str, str], name: str = "pkg") -> Path:
    """Write ``files`` (relative path -> source) as package ``name`` under ``root``."""
    pkg = root / name
    for rel, source in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return pkg


def line_of(source: str, needle: str) -> int:
    """1-based number of the first line of ``source`` containing ``needle``."""
    return next(i for i, line in enumerate(source.splitlines(), 1) if needle in line)


def variant(tmp_path: Path, **changes: str | None) -> Path:
    """The clean package with some files replaced (``None`` deletes); ``__`` in a key means ``/``."""
    files = dict(CLEAN)
    for key, source in changes.items():
        rel = key.replace("__", "/") + ".py" if not key.startswith("__") else key + ".py"
        if source is None:
            files.pop(rel)
        else:
            files[rel] = source
    return write_package(tmp_path, files)


# the clean package ---------------------------------------------------------------------------


def test_clean_package_passes(tmp_path):
    pkg = load_package(write_package(tmp_path, CLEAN))
    assert check_order(pkg) == []
    assert find_cycles(pkg) == [] and cycle_problems(pkg) == []
    assert protocol_names(pkg) == {"_evaluate", "_lazy", "_of"}
    assert private_access(pkg, protocol_names(pkg)) == []


def test_imports_are_resolved(tmp_path):
    pkg = load_package(write_package(tmp_path, CLEAN))
    edges = {(e.source, e.target) for e in pkg.edges}
    # from .stats import kernels: the package and its submodule; the absolute import; a function-level one
    assert {("engine", "stats"), ("engine", "stats.kernels"), ("engine", "errors"), ("engine", "values")} <= edges
    # relative imports inside a subpackage; its own package is not an import of it
    assert ("stats.kernels", "values") in edges and ("stats.kernels", "stats") not in edges
    assert ("stats", "stats.kernels") in edges and ("values", "_time") in edges
    assert ("__main__", "") in edges and ("", "engine") in edges
    assert not any(e.target.startswith(("numpy", "collections")) for e in pkg.edges)


def test_order_block_parsing():
    doc = f"Intro.\n\n{ORDER_HEADER}\n  errors,_time <-- values -> x.y\n  # a comment line\n  a, b,  # tail\n\nafter"
    assert parse_order(doc) == ["errors", "_time", "values", "x.y", "a", "b"]
    assert parse_order("no block here") is None
    with pytest.raises(ValueError, match="must read exactly"):
        parse_order("Import order:\nerrors\n")
    with pytest.raises(ValueError, match="cannot read 'engine/plan'"):
        parse_order(f"{ORDER_HEADER}\nerrors engine/plan\n")


# each kind of problem is reported with its place --------------------------------------------


def test_cycle_is_reported(tmp_path):
    engine = CLEAN["engine.py"] + "\n\ndef later():\n    from .stats.kernels import k\n"
    kernels = CLEAN["stats/kernels.py"] + "\n\ndef g():\n    from .. import engine\n"
    pkg = load_package(variant(tmp_path, engine=engine, stats__kernels=kernels))
    assert find_cycles(pkg) == [["engine", "stats", "stats.kernels"]]
    (problem,) = cycle_problems(pkg)
    assert "cycle of 3 modules: engine, stats, stats.kernels" in problem
    assert f"pkg/stats/kernels.py:{line_of(kernels, 'import engine')}: stats.kernels imports engine" in problem
    assert f"pkg/engine.py:{line_of(engine, 'from .stats import')}: engine imports stats" in problem


def test_upward_import_is_reported(tmp_path):
    errors = "from .values import ComputedObject\n\n\nclass E(Exception):\n    pass\n"
    pkg = load_package(variant(tmp_path, errors=errors))
    problems = check_order(pkg)
    assert problems == [
        "pkg/errors.py:1: errors imports values, which is listed after it: move what errors needs into a module "
        "listed before it (or, if values does not import errors, move values before errors in the docstring of "
        "pkg/__init__.py)"
    ]
    assert find_cycles(pkg) == [["errors", "values"]]


def test_importing_the_own_package_is_reported(tmp_path):
    kernels = CLEAN["stats/kernels.py"] + "\n\ndef h():\n    from . import k\n    import pkg\n"
    problems = check_order(load_package(variant(tmp_path, stats__kernels=kernels)))
    assert [p.split(" imports")[0] for p in problems] == [
        f"pkg/stats/kernels.py:{line_of(kernels, 'from . import k')}: stats.kernels",
        f"pkg/stats/kernels.py:{line_of(kernels, 'import pkg')}: stats.kernels",
    ]
    assert "imports its own package stats (" in problems[0] and "imports the facade pkg (" in problems[1]


def test_unlisted_and_unknown_modules_are_reported(tmp_path):
    pkg = load_package(variant(tmp_path, helpers="from .values import ComputedObject\n", stats__kernels=None))
    problems = check_order(pkg)
    assert "pkg/helpers.py: module helpers is not in the import order" in problems[-1]
    assert problems[-1].endswith("add helpers anywhere after values")
    assert "stats.kernels is listed but there is no pkg/stats/kernels.py" in problems[0]


def test_unlisted_module_gets_a_place(tmp_path):
    engine = CLEAN["engine.py"] + "from . import helpers\n"
    pkg = load_package(variant(tmp_path, engine=engine, helpers="from .stats import kernels\n"))
    (problem,) = check_order(pkg)
    assert problem.endswith("add helpers after stats and before engine")


def test_missing_block_suggests_one(tmp_path):
    init = '"""No order here."""\n' + CLEAN["__init__.py"].split('"""\n', 2)[-1]
    (problem,) = check_order(load_package(variant(tmp_path, __init__=init)))
    assert "has no import-order block" in problem
    assert problem.endswith(f"{ORDER_HEADER}\n_time, errors\nvalues\nstats.kernels\nstats\nengine\n")


def test_private_import_is_reported(tmp_path):
    engine = CLEAN["engine.py"] + "from .values import ComputedObject, _helper\nfrom pkg.stats import _time\n"
    problems = private_access(load_package(variant(tmp_path, engine=engine)), {"_evaluate", "_lazy", "_of"})
    n = line_of(engine, "_helper")
    assert problems == [
        f"pkg/engine.py:{n}: from .values import _helper",
        f"pkg/engine.py:{n + 1}: from pkg.stats import _time",
    ]


def test_private_attribute_read_is_reported(tmp_path):
    engine = (
        CLEAN["engine.py"] + "\n\ndef peek(img, values):\n    return img._bands, values._time.now(), img._evaluate()\n"
    )
    pkg = load_package(variant(tmp_path, engine=engine))
    n = line_of(engine, "img._bands")
    assert private_access(pkg, protocol_names(pkg)) == [
        f"pkg/engine.py:{n}: img._bands",
        f"pkg/engine.py:{n}: values._time",
    ]
    # without the protocol allowlist, _evaluate and _lazy are reported too
    assert len(private_access(pkg)) == 5


def test_tarjan_handles_deep_graphs():
    chain = {str(i): {str(i + 1)} for i in range(5000)}
    chain["5000"] = {"0"}
    assert [len(c) for c in strongly_connected(chain)] == [5001]
    chain["5000"] = set()
    assert len(strongly_connected(chain)) == 5001


def test_entry_points_listed_after_the_facade_may_import_it(tmp_path):
    cli = "import pkg\n\n\ndef main():\n    return pkg\n"
    unlisted = check_order(load_package(variant(tmp_path / "a", cli=cli)))
    assert "module cli is not in the import order" in unlisted[0]
    init = CLEAN["__init__.py"].replace("engine\n\nMore text.", "engine pkg cli\n\nMore text.")
    assert check_order(load_package(variant(tmp_path / "b", cli=cli, __init__=init))) == []
    # a module listed before the facade still may not import it
    init = CLEAN["__init__.py"].replace("engine\n\nMore text.", "engine cli pkg\n\nMore text.")
    before = check_order(load_package(variant(tmp_path / "c", cli=cli, __init__=init)))
    assert len(before) == 1 and "cli imports the facade pkg (" in before[0]
