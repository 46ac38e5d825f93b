"""The package tree keeps its shape: capabilities below, adapters above, no import cycles.

`service/` holds one package per capability (core, forms, registry, signatures,
verification, batches, deadlines, mail, observability) and the adapters that face the outside
(api, web, cli) plus the application factory (`service/__init__.py`). Adapters import capabilities,
never the other way round; `signing/` is a library of its own (tests/signing/test_purity.py
keeps it free of Flask and SQLAlchemy). Imports are read from the source with `ast`, so the
check sees every `import` statement, also those inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CAPABILITIES = ("core", "forms", "registry", "signatures", "verification", "batches",
                "deadlines", "mail", "observability", "webhooks", "invitations")
ADAPTERS = ("api", "web", "cli")
# A batch worker process builds the whole application once (its registry with every
# listener), so its bootstrap imports the application factory: the one way up, by design.
FACTORY_USERS = {"service.batches.queue"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for top in ("service", "signing")
        for path in sorted((ROOT / top).rglob("*.py"))
        if "migrations" not in path.parts
    }


def imports(path: Path, module_level_only: bool) -> Iterator[str]:
    tree = ast.parse(path.read_text("utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports are for the type checker
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def graph(module_level_only: bool) -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imports(path, module_level_only)
               if target in known and target != name}
        for name, path in known.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert cycles(graph(module_level_only=True)) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_capabilities_never_import_the_adapters(capability: str) -> None:
    upward = {
        (name, target)
        for name, targets in graph(module_level_only=False).items()
        if name.startswith(f"service.{capability}")
        for target in targets
        if (target.split(".")[1:2] and target.split(".")[1] in ADAPTERS)
        or (target == "service" and name not in FACTORY_USERS)
    }
    assert upward == set()


def test_service_is_the_list_of_capabilities() -> None:
    packages = {path.parent.name for path in (ROOT / "service").glob("*/__init__.py")}
    assert packages == {*CAPABILITIES, *ADAPTERS}
    loose = {path.name for path in (ROOT / "service").glob("*.py")}
    assert loose == {"__init__.py", "tables.py"}


def test_tests_mirror_the_capabilities() -> None:
    folders = {path.name for path in (ROOT / "tests").iterdir() if path.is_dir()
               and not path.name.startswith((".", "_"))}
    assert set(CAPABILITIES) <= folders
