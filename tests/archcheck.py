"""Architecture checks over a package's source, with ``ast`` and ``pathlib`` only.

Used by ``tests/unit/test_architecture.py`` (on ``reducer/``) and by
``tests/unit/test_architecture_tool.py`` (on small synthetic packages).

Modules are named relative to the package: ``errors``, ``stats.kernels``, ``stats`` (for
``stats/__init__.py``), ``__main__``; the package's own ``__init__.py`` (the facade) is named
after the package, e.g. ``reducer``, and is ``""`` internally.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ORDER_HEADER = "Import order (each module imports only modules listed before it):"
ROOT = ""  # internal name of the package's own __init__.py (the facade)
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
ARROW_RE = re.compile(r"[-<>=]+")
# documented public API of namedtuples, in spite of the underscore
NAMEDTUPLE_API = frozenset({"_asdict", "_replace", "_make", "_fields", "_field_defaults"})


@dataclass(frozen=True)
class Module:
    """One source file of the package."""

    name: str  # relative dotted name; ROOT for the package's __init__.py
    path: Path
    display_path: str  # e.g. "reducer/stats/kernels.py"
    is_package: bool
    tree: ast.Module


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``display_path:line``."""

    source: str
    target: str
    display_path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.display_path}:{self.line}"


@dataclass
class Package:
    """A parsed package: its modules, and the intra-package imports between them."""

    name: str  # e.g. "reducer"
    root: Path
    modules: dict[str, Module]
    edges: list[Edge] = field(default_factory=list)
    private_imports: list[str] = field(default_factory=list)  # "path:line: from .x import _y"

    def label(self, name: str) -> str:
        """Human name of a module: the facade is called by the package's name."""
        return self.name if name == ROOT else name

    def graph(self) -> dict[str, set[str]]:
        """Adjacency sets, one node per module (self-imports dropped)."""
        out: dict[str, set[str]] = {m: set() for m in self.modules}
        for e in self.edges:
            if e.source != e.target:
                out[e.source].add(e.target)
        return out


# -- loading ------------------------------------------------------------------------------


def module_name(pkg_dir: Path, path: Path) -> str:
    """Relative dotted name of ``path`` inside ``pkg_dir`` (``stats/__init__.py`` -> ``stats``)."""
    parts = list(path.relative_to(pkg_dir).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_ancestor(pkg: str, module: str) -> bool:
    """Whether package ``pkg`` is ``module`` itself or contains it (ROOT contains everything)."""
    return pkg == ROOT or module == pkg or module.startswith(pkg + ".")


def join(*parts: str) -> str:
    """Join dotted names, skipping empty ones."""
    return ".".join(p for p in parts if p)


def is_private(name: str) -> bool:
    """Single leading underscore, not a dunder."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_main(name: str) -> bool:
    """``__main__`` modules may import anything."""
    return name.rsplit(".", 1)[-1] == "__main__"


@cache
def load_package(pkg_dir: Path) -> Package:
    """Parse every ``.py`` file under ``pkg_dir`` and collect its intra-package imports."""
    pkg_dir = Path(pkg_dir).resolve()
    modules: dict[str, Module] = {}
    for path in sorted(pkg_dir.rglob("*.py")):
        rel = path.relative_to(pkg_dir)
        if any(not part.isidentifier() for part in rel.with_suffix("").parts):
            continue  # __pycache__, data folders, "my-script.py": not importable
        name = module_name(pkg_dir, path)
        display = (Path(pkg_dir.name) / rel).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules[name] = Module(name, path, display, path.name == "__init__.py", tree)
    pkg = Package(pkg_dir.name, pkg_dir, modules)
    for mod in modules.values():
        collect_imports(pkg, mod)
    return pkg


def internal_name(pkg: Package, mod: Module, level: int, dotted: str | None) -> str | None:
    """Relative dotted name an import refers to, or None when it is outside the package."""
    if level == 0:
        if dotted is None:
            return None
        if dotted == pkg.name:
            return ROOT
        if dotted.startswith(pkg.name + "."):
            return dotted[len(pkg.name) + 1 :]
        return None
    parts = mod.name.split(".") if mod.name else []
    if not mod.is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None  # beyond the top of the package: Python raises, nothing to check here
    parts = parts[: len(parts) - (level - 1)]
    return join(*parts, dotted or "")


def known_prefix(pkg: Package, name: str) -> str:
    """The longest prefix of ``name`` that is a module of the package."""
    parts = name.split(".") if name else []
    while parts and ".".join(parts) not in pkg.modules:
        parts.pop()
    return ".".join(parts)


def parent_packages(pkg: Package, name: str, importer: str) -> Iterator[str]:
    """Packages Python initialises to import ``name`` that ``importer`` does not sit in already."""
    parts = name.split(".") if name else []
    for i in range(1, len(parts) + 1):
        p = ".".join(parts[:i])
        if p in pkg.modules and pkg.modules[p].is_package and not is_ancestor(p, importer):
            yield p


def collect_imports(pkg: Package, mod: Module) -> None:
    """Add ``mod``'s intra-package imports (anywhere in the file) to ``pkg.edges``."""

    seen: set[tuple[str, int]] = set()

    def add(target: str, line: int) -> None:
        if (target, line) not in seen:  # one edge per imported module and line
            seen.add((target, line))
            pkg.edges.append(Edge(mod.name, target, mod.display_path, line))

    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = internal_name(pkg, mod, 0, alias.name)
                if name is None:
                    continue
                for p in parent_packages(pkg, name, mod.name):
                    add(p, node.lineno)
                add(known_prefix(pkg, name), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = internal_name(pkg, mod, node.level, node.module)
            if base is None:
                continue
            for p in parent_packages(pkg, base, mod.name):
                add(p, node.lineno)
            for alias in node.names:
                sub = join(base, alias.name)
                if alias.name != "*" and sub in pkg.modules:
                    add(sub, node.lineno)  # a submodule (private modules such as _time are fine)
                    continue
                add(known_prefix(pkg, base), node.lineno)  # a name read from base's namespace
                if is_private(alias.name):
                    dots = "." * node.level
                    src = f"{dots}{node.module or ''}"
                    pkg.private_imports.append(f"{mod.display_path}:{node.lineno}: from {src} import {alias.name}")


# -- the import order ---------------------------------------------------------------------------


def parse_order(docstring: str | None) -> list[str] | None:
    """Module names in the docstring's import-order block, or None when there is no block.

    The block starts at a line reading exactly ``ORDER_HEADER`` and ends at the first blank line
    (or the docstring's end). Names are separated by spaces or commas; arrows such as ``<--`` are
    separators; ``#`` starts a comment. Raises ValueError for anything else.
    """
    lines = (docstring or "").splitlines()
    header = " ".join(ORDER_HEADER.split())
    starts = [i for i, line in enumerate(lines) if " ".join(line.split()) == header]
    if not starts:
        near = [line.strip() for line in lines if line.strip().lower().startswith("import order")]
        if near:
            raise ValueError(f"found {near[0]!r}, but the block's first line must read exactly {ORDER_HEADER!r}")
        return None
    if len(starts) > 1:
        raise ValueError(f"{ORDER_HEADER!r} appears {len(starts)} times; keep one block")
    names: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if not line.strip():
            break
        for token in line.split("#", 1)[0].replace(",", " ").split():
            if ARROW_RE.fullmatch(token):
                continue
            if not NAME_RE.fullmatch(token):
                raise ValueError(
                    f"cannot read {token!r} in the import-order line {line.strip()!r}: "
                    "write module names (e.g. stats.kernels) separated by spaces, commas or <--; '#' starts a comment"
                )
            names.append(token)
    return names


def check_order(pkg: Package) -> list[str]:
    """Problems with the import order stated in the facade's docstring (empty list: all good)."""
    facade = pkg.modules.get(ROOT)
    where = f"the docstring of {pkg.name}/__init__.py"
    if facade is None:
        return [f"{pkg.name}/__init__.py is missing"]
    try:
        order = parse_order(ast.get_docstring(facade.tree, clean=True))
    except ValueError as exc:
        return [f"{where}: {exc}"]
    if order is None:
        return [
            f"{where} has no import-order block. Add one, e.g. (from the current imports"
            f"{'; the cycles must be broken first' if find_cycles(pkg) else ''}):\n\n" + format_order(pkg)
        ]
    problems: list[str] = []
    position: dict[str, int] = {}
    for i, name in enumerate(order):
        internal = ROOT if name == pkg.name else name
        if internal in position:
            problems.append(f"{where}: {name} is listed twice; keep one")
        elif internal not in pkg.modules:
            problems.append(
                f"{where}: {name} is listed but there is no {pkg.name}/{name.replace('.', '/')}.py "
                f"(or .../__init__.py): remove it or fix the spelling"
            )
        else:
            position[internal] = i
    # The facade is last unless listed: modules listed after it are entry points (a command line,
    # a demo script) that use the public API as a user does; nothing the facade imports may follow it.
    position.setdefault(ROOT, len(order))
    graph = pkg.graph()
    importers: dict[str, set[str]] = {m: set() for m in pkg.modules}
    for src, targets in graph.items():
        for t in targets:
            importers[t].add(src)
    for name in sorted(set(pkg.modules) - set(position)):
        if is_main(name):
            continue
        problems.append(
            f"{pkg.modules[name].display_path}: module {name} is not in the import order in {where}: "
            + where_to_add(pkg, name, order, position, graph[name], importers[name])
        )
    for e in sorted(pkg.edges, key=lambda e: (e.display_path, e.line, e.target)):
        if e.source == ROOT or is_main(e.source) or e.source == e.target:
            continue
        if e.target == ROOT and position.get(e.source, -1) > position[ROOT]:
            continue  # an entry point listed after the facade
        if is_ancestor(e.target, e.source):
            what = "the facade" if e.target == ROOT else "its own package"
            problems.append(
                f"{e.where}: {e.source} imports {what} {pkg.label(e.target)} ({pkg.modules[e.target].display_path} "
                "comes after its modules): import from the module that defines the name instead"
            )
        elif e.source in position and e.target in position and position[e.target] > position[e.source]:
            problems.append(
                f"{e.where}: {e.source} imports {e.target}, which is listed after it: move what {e.source} "
                f"needs into a module listed before it (or, if {e.target} does not import {e.source}, "
                f"move {e.target} before {e.source} in {where})"
            )
    return problems


def where_to_add(
    pkg: Package, name: str, order: list[str], position: dict[str, int], imports: set[str], importers: set[str]
) -> str:
    """Advice for an unlisted module: between what it imports and what imports it."""
    after = max((t for t in imports if t in position and t != ROOT), key=position.__getitem__, default=None)
    before = min((s for s in importers if s in position and s != ROOT), key=position.__getitem__, default=None)
    if after is not None and before is not None and position[after] > position[before]:
        return (
            f"it imports {after} but is imported by {before}, which is listed before {after}: "
            "untangle that first, then add it between them"
        )
    if after is not None and before is not None:
        return f"add {name} after {after} and before {before}"
    if after is not None:
        return f"add {name} anywhere after {after}"
    if before is not None:
        return f"add {name} anywhere before {before}"
    return f"add {name} anywhere in the list"


def layers(pkg: Package) -> list[list[str]]:
    """Modules in dependency layers (a layer imports only earlier layers); a cycle shares a layer.

    The facade is a node too, so that a module importing it comes after what the facade imports.
    """
    graph = {m: t for m, t in pkg.graph().items() if not is_main(m)}
    component = {m: i for i, scc in enumerate(strongly_connected(graph)) for m in scc}
    depth: dict[int, int] = {}
    # Tarjan yields components in reverse topological order: dependencies first
    for i, scc in enumerate(strongly_connected(graph)):
        deps = {component[t] for m in scc for t in graph[m] if t in component and component[t] != i}
        depth[i] = 1 + max((depth[d] for d in deps), default=-1)
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for m, i in component.items():
        if m != ROOT and not is_main(m):
            out[depth[i]].append(m)
    return [sorted(layer) for layer in out if layer]


def format_order(pkg: Package, width: int = 96) -> str:
    """A ready-to-paste import-order block for the current imports."""
    lines = [ORDER_HEADER]
    for layer in layers(pkg):
        line = ""
        for name in layer:
            if line and len(line) + len(name) + 2 > width:
                lines.append(line + ",")
                line = ""
            line = f"{line}, {name}" if line else name
        lines.append(line)
    return "\n".join(lines) + "\n"


# -- cycles --------------------------------------------------------------------------------------


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively; dependencies come out first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                scc: list[str] = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    scc.append(m)
                    if m == node:
                        break
                out.append(sorted(scc))
    return out


def find_cycles(pkg: Package) -> list[list[str]]:
    """Groups of modules that import each other, directly or not (as labels, sorted)."""
    sccs = [scc for scc in strongly_connected(pkg.graph()) if len(scc) > 1]
    return sorted((sorted(pkg.label(m) for m in scc) for scc in sccs), key=lambda c: (-len(c), c))


def cycle_problems(pkg: Package) -> list[str]:
    """One message per cycle: its modules and the imports that close it, with path:line."""
    problems = []
    for scc in strongly_connected(pkg.graph()):
        if len(scc) < 2:
            continue
        members = set(scc)
        first: dict[tuple[str, str], Edge] = {}
        for e in pkg.edges:
            if e.source in members and e.target in members and e.source != e.target:
                first.setdefault((e.source, e.target), e)
        edges = "\n".join(
            f"    {e.where}: {pkg.label(e.source)} imports {pkg.label(e.target)}"
            for e in sorted(first.values(), key=lambda e: (e.display_path, e.line, e.target))
        )
        problems.append(
            f"cycle of {len(scc)} modules: {', '.join(pkg.label(m) for m in scc)}\n"
            f"  imports inside it (remove or move enough of them to break the cycle):\n{edges}"
        )
    return problems


# -- private access ----------------------------------------------------------------------------


def target_names(target: ast.expr) -> Iterator[ast.expr]:
    """Leaf targets of an assignment target (unpacking tuples, lists and starred names)."""
    if isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            yield from target_names(elt)
    elif isinstance(target, ast.Starred):
        yield from target_names(target.value)
    else:
        yield target


def slot_names(value: ast.expr) -> Iterator[str]:
    """String entries of a ``__slots__`` value."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        yield value.value
    elif isinstance(value, ast.Tuple | ast.List | ast.Set):
        for elt in value.elts:
            if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                yield elt.value


def defined_names(tree: ast.Module) -> set[str]:
    """Names a module defines: def/class, assignment targets, __slots__ entries, self._x = ..."""
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: Iterable[ast.expr] = ()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.Assign):
            targets = node.targets
            if any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
                out.update(slot_names(node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor | ast.comprehension):
            targets = [node.target]
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                if node.target.id == "__slots__":
                    out.update(slot_names(node.value))
        elif isinstance(node, ast.NamedExpr):
            targets = [node.target]
        elif isinstance(node, ast.With | ast.AsyncWith):
            targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
        for target in targets:
            for leaf in target_names(target):
                if isinstance(leaf, ast.Name):
                    out.add(leaf.id)
                elif (
                    isinstance(leaf, ast.Attribute)
                    and isinstance(leaf.value, ast.Name)
                    and leaf.value.id in {"self", "cls"}
                ):
                    out.add(leaf.attr)
    return out


def external_import_names(pkg: Package, mod: Module) -> set[str]:
    """Names bound in ``mod`` by importing a module from outside the package (np, pd, ...)."""
    out: set[str] = set()
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if internal_name(pkg, mod, 0, alias.name) is None:
                    out.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and internal_name(pkg, mod, node.level, node.module) is None:
            out.update(alias.asname or alias.name for alias in node.names if alias.name != "*")
    return out


def chain_root(expr: ast.expr) -> ast.expr:
    """``a`` for ``a.b.c``; the expression itself when it is not an attribute chain."""
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return expr


def is_own_object(expr: ast.expr) -> bool:
    """``self``, ``cls`` or ``super()``."""
    if isinstance(expr, ast.Name):
        return expr.id in {"self", "cls"}
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "super"


def protocol_names(pkg: Package, class_name: str = "ComputedObject") -> set[str]:
    """Private (non-dunder) methods and class attributes defined on ``class_name`` anywhere in the package."""
    out: set[str] = set()
    for mod in pkg.modules.values():
        for node in ast.walk(mod.tree):
            if not (isinstance(node, ast.ClassDef) and node.name == class_name):
                continue
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                    names = [stmt.name]
                elif isinstance(stmt, ast.Assign):
                    names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
                elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    names = [stmt.target.id]
                else:
                    names = []
                out.update(n for n in names if is_private(n))
    return out


def private_access(pkg: Package, allowed: Iterable[str] = ()) -> list[str]:
    """``path:line: ...`` for each private import from another module and each foreign ``expr._name``."""
    allowed = set(allowed) | NAMEDTUPLE_API
    problems = list(pkg.private_imports)
    for mod in pkg.modules.values():
        own = defined_names(mod.tree)
        external = external_import_names(pkg, mod)
        for node in ast.walk(mod.tree):
            if not (isinstance(node, ast.Attribute) and is_private(node.attr)):
                continue
            if node.attr in own or node.attr in allowed or is_own_object(node.value):
                continue
            root = chain_root(node.value)
            if isinstance(root, ast.Name) and root.id in external:
                continue
            expr = ast.unparse(node.value)
            if len(expr) > 40:
                expr = expr[:37] + "..."
            problems.append(f"{mod.display_path}:{node.lineno}: {expr}.{node.attr}")
    return sorted(problems, key=sort_key)


def sort_key(problem: str) -> tuple[str, int, str]:
    """Sort ``path:line: text`` by path, then line number."""
    path, line, rest = problem.split(":", 2)
    return path, int(line) if line.isdigit() else 0, rest
