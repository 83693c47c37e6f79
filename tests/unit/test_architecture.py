"""Architecture rules for the ``reducer`` package, checked on its source (no imports run).

1. The import order stated in ``reducer/__init__.py``'s docstring is followed: a block such as

       Import order (each module imports only modules listed before it):
       errors, _time, stats.kernels, stats
       values <-- dates
       ...

   (names relative to the package, separated by spaces, commas or ``<--``; ``#`` starts a
   comment; a blank line ends it). Every module is listed; the facade (``reducer``) is last
   and, like ``__main__``, may import anything. Imports inside functions count.
2. There are no import cycles (whatever the order says).
3. No module reads another module's private names: no ``from .x import _name`` and no
   ``obj._name`` unless ``_name`` is defined in the same module, or is one of the private
   protocol methods of ``ComputedObject``.

The machinery is in ``tests/archcheck.py``; ``test_architecture_tool.py`` tests it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import reducer
from tests.archcheck import check_order, cycle_problems, load_package, private_access, protocol_names

PACKAGE = Path(reducer.__file__).resolve().parent
PROTOCOL_CLASS = "ComputedObject"


def test_imports_follow_the_stated_order():
    problems = check_order(load_package(PACKAGE))
    assert not problems, (
        f"{len(problems)} import-order problem(s) (the order is the block in the docstring of "
        f"{PACKAGE.name}/__init__.py):\n" + "\n".join(problems)
    )


def test_no_import_cycles():
    pkg = load_package(PACKAGE)
    problems = cycle_problems(pkg)
    assert not problems, (
        f"{len(problems)} import cycle(s) between modules of {pkg.name}/ (imports inside functions count): "
        "move the shared code down into a module that both can import, or pass it in as an argument\n"
        + "\n".join(problems)
    )


def test_no_private_access_across_modules():
    pkg = load_package(PACKAGE)
    allowed = protocol_names(pkg, PROTOCOL_CLASS)
    assert allowed, (
        f"no private methods found on class {PROTOCOL_CLASS} in {pkg.name}/: if it was renamed, "
        "update PROTOCOL_CLASS in tests/unit/test_architecture.py"
    )
    problems = private_access(pkg, allowed)
    by_name = Counter(p.rsplit(".", 1)[-1] if ": from " not in p else p.rsplit(" ", 1)[-1] for p in problems)
    assert not problems, (
        f"{len(problems)} private name(s) used outside the module that defines them. Give the owning "
        "module a public function or method (or drop the underscore if the name is part of its "
        f"interface). Allowed everywhere: {', '.join(sorted(allowed))} ({PROTOCOL_CLASS}'s protocol).\n"
        f"most used: {', '.join(f'{n} ({c})' for n, c in by_name.most_common(20))}\n" + "\n".join(problems)
    )
