"""The package's imports form no cycle (issue 14: a model without a circle).

Every import statement in ``src/deeprecipe`` counts, at module level and inside functions
(an import inside a function to dodge a cycle is still that cycle); those in an
``if TYPE_CHECKING:`` block are left out (they never run). Importing ``a.b.c`` depends on
``a.b.c`` and on the ``__init__`` of each package above it that the importer is not itself
inside (the root ``deeprecipe`` only when a name is imported from it), since Python runs
those first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import deeprecipe

ROOT = Path(deeprecipe.__file__).parent
PACKAGE = "deeprecipe"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping the bodies of ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package's modules this import runs (before the ancestors are added)."""
    is_package = MODULES[module].name == "__init__.py"
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE}
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source.split(".")[0] != PACKAGE:
        return set()
    found = set()
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        found.add(submodule if submodule in MODULES else source)
    return found


def dependencies(module: str, tree: ast.AST) -> set[str]:
    """The modules that importing ``module`` (parsed as ``tree``) runs: each import's target
    and the packages above it that ``module`` is not inside (the root only when a name is
    imported from it)."""
    own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 2)}
    found: set[str] = set()
    for node in import_nodes(tree):
        for target in targets(module, node):
            parts = target.split(".")
            above = {".".join(parts[:i]) for i in range(2, len(parts))}
            found |= ({target} | above) - own - {PACKAGE}
            if target == PACKAGE and module != PACKAGE:
                found.add(PACKAGE)
    return found


def graph() -> dict[str, set[str]]:
    return {module: dependencies(module, ast.parse(path.read_text(encoding="utf-8")))
            for module, path in MODULES.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_the_package_imports_form_no_cycle() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_walk_sees_imports_inside_functions_and_skips_type_checking() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .model import Sequential\n"
        "def f():\n    from .training import Trainer\n"
    )
    modules = set().union(*(targets("deeprecipe.layers", node) for node in import_nodes(tree)))
    assert modules == {"deeprecipe.training"}


def test_a_cycle_is_found_and_named() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_a_package_init_counts() -> None:
    # importing deeprecipe.diagnostics.flow runs deeprecipe/diagnostics/__init__.py first
    tree = ast.parse("from .diagnostics.flow import gradient_flow\nfrom . import __version__\n")
    assert dependencies("deeprecipe.model", tree) == {
        "deeprecipe.diagnostics.flow", "deeprecipe.diagnostics", "deeprecipe"}
    # a module inside the package it imports from does not depend on its own __init__
    sibling = ast.parse("from .bias_variance import diagnose\n")
    assert dependencies("deeprecipe.diagnostics.flow", sibling) == {
        "deeprecipe.diagnostics.bias_variance"}
    for module, imported in graph().items():
        assert imported <= set(MODULES), (module, imported - set(MODULES))


# The rows of docs/architecture.md's table of modules, top to bottom: a module imports only
# from its own row and the rows above it.
LEVELS = [
    ["_checks", "_version", "parameters", "findings", "run", "run.files"],  # run/__init__: empty
    ["activations", "initializers", "losses", "regularizers", "optimizers"],
    ["layers"],
    ["data", "datasets"],
    ["divergence", "diagnostics", "callbacks", "targets"],
    ["training"],
    ["model", "persistence"],
    ["gradcheck"],
    ["pipeline", "runconfig", "run.folder", "run.checkpoint", "run.result"],
    ["report"],
    ["workflow", "recipe", "experiments", "sklearn"],
    ["cli", "__main__"],
]


def level(module: str) -> int:
    """The row of ``module`` (its longest listed prefix decides: run.files is a foundation)."""
    name = module.removeprefix(f"{PACKAGE}.")
    matches = [(len(prefix), row) for row, prefixes in enumerate(LEVELS) for prefix in prefixes
               if name == prefix or name.startswith(prefix + ".")]
    assert matches, f"{module} is in no row of LEVELS (docs/architecture.md): add it"
    return max(matches)[1]


def upward(edges: dict[str, set[str]]) -> list[str]:
    """The imports in ``edges`` that point up the table."""
    return sorted(f"{module} -> {target}" for module, targets_ in edges.items()
                  if module != PACKAGE for target in targets_
                  if target != PACKAGE and level(target) > level(module))


def test_imports_point_one_way() -> None:
    found = upward(graph())
    assert not found, "imports that point up the table of docs/architecture.md:\n" + \
        "\n".join(found)


def test_an_upward_import_is_found() -> None:
    planted = {**graph(), "deeprecipe.layers": {"deeprecipe.model"}}
    assert upward(planted) == ["deeprecipe.layers -> deeprecipe.model"]
    assert level("deeprecipe.run.files") < level("deeprecipe.run.folder")
