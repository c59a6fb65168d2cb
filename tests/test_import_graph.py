"""The package's modules import each other without a cycle: read from the source (nothing is
imported), so a module can always be understood, and imported, before the modules that use it.

Imports inside functions count too: one that closes a cycle only hides it until the call."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = "dagster_project"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package's modules an import statement loads (`from package import module` names one)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == PACKAGE]
    if node.level or not node.module or node.module.split(".")[0] != PACKAGE:
        return []
    return [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names]


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """Module-level imports between the package's modules, and the imports made inside functions
    as (module, line, imported)."""
    at_module_level: dict[str, set[str]] = {name: set() for name in MODULES}
    in_functions = set()
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for imported in _imported(node):
                    if imported not in MODULES:
                        continue
                    if id(node) in in_function:
                        in_functions.add((name, node.lineno, imported))
                    else:
                        at_module_level[name].add(imported)
    return at_module_level, sorted(in_functions)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as the modules along it (the first repeated at the end), or None."""
    done, path = set(), []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module) :] + [module]
        if module in done:
            return None
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if cycle := visit(imported):
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if cycle := visit(module):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_graph_sees_every_kind_of_import():
    graph, _ = import_graph()
    assert "dagster_project.ingest.batch" in graph["dagster_project.ingest.loader"]  # from package import module
    assert "dagster_project.domain.months" in graph["dagster_project.ingest.manifest"]  # from module import name


def test_no_module_of_the_package_imports_itself_back_at_module_level():
    graph, _ = import_graph()
    assert find_cycle(graph) is None


def test_imports_inside_functions_close_no_cycle_either():
    graph, in_functions = import_graph()
    for module, _line, imported in in_functions:
        graph[module] = graph[module] | {imported}
    cycle = find_cycle(graph)
    assert cycle is None, f"{' -> '.join(cycle)}; imports inside functions: {in_functions}"


def test_the_ingest_modules_import_nothing_inside_functions():
    """The loader's modules once imported each other's private helpers inside functions, to hide a cycle."""
    _, in_functions = import_graph()
    assert [f for f in in_functions if f[0].startswith(f"{PACKAGE}.ingest.")] == []


if __name__ == "__main__":  # a report: every import made inside a function, and any cycle
    graph, in_functions = import_graph()
    print(
        f"{len(MODULES)} modules, {sum(map(len, graph.values()))} imports between them at module level, "
        f"{len(in_functions)} inside functions"
    )
    for module, line, imported in in_functions:
        print(f"  inside a function: {MODULES[module].relative_to(ROOT.parent)}:{line} imports {imported}")
    print("cycle at module level:", find_cycle(graph))
    for module, _line, imported in in_functions:
        graph[module] = graph[module] | {imported}
    print("cycle counting imports inside functions:", find_cycle(graph))
