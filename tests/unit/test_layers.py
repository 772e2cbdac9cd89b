"""The layer contract (pyproject.toml, checked by `lint-imports` in `make lint`) covers every
module: a module left out of every layer would be free to import anything."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _importlinter() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _layers() -> list[set[str]]:
    """Each layer's modules, highest first (optional `(name)` layers unwrapped)."""
    contract = next(c for c in _importlinter()["contracts"] if c["id"] == "layers")
    return [
        {name.strip().strip("()") for name in re.split(r"[|:]", layer)}
        for layer in contract["layers"]
    ]


def _modules(package: str) -> list[str]:
    names = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _in(module: str, layer: set[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in layer)


def test_every_module_of_the_service_sits_in_a_layer() -> None:
    roots = _importlinter()["root_packages"]
    layers = _layers()
    outside = [
        module
        for root in roots
        for module in _modules(root)
        if module not in roots and not any(_in(module, layer) for layer in layers)
    ]
    assert outside == [], f"modules in no layer of pyproject.toml's layers contract: {outside}"


def test_a_root_package_imports_only_the_base() -> None:
    """The root packages' own `__init__` sit in no layer (a layer cannot hold another): they
    may re-export the base only. A root package that is a layer of its own (the demo
    generator) is checked by the contract itself."""
    roots = _importlinter()["root_packages"]
    layers = _layers()
    base = layers[-1]
    whole = {m for layer in layers for m in layer if m in roots}
    for root in sorted(set(roots) - whole):
        tree = ast.parse((ROOT / root / "__init__.py").read_text())
        imported = [
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        ]
        project = [m for m in imported if m and m.split(".")[0] in roots]
        assert all(_in(m, base) for m in project), (root, project)


def test_onboarding_sits_beside_orchestration_and_the_demo() -> None:
    """`e360 init` reads with the ingestion readers and fits matching with the planner of
    `e360 resolve`: it sits under the CLI, beside the orchestration and the demo generator."""
    assert "onboarding" in _importlinter()["root_packages"]
    assert next(layer for layer in _layers() if "onboarding" in layer) == {
        "orchestration",
        "demo",
        "onboarding",
    }
