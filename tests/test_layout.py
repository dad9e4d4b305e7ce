"""The architecture's one-way rule: evolve may use agent and envs; agent and envs never use each other or evolve."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FORBIDDEN = {"agent": {"envs", "evolve"}, "envs": {"agent", "evolve"}}


def imported_packages(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_flow_one_way(package):
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_packages(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_pygame_is_imported_only_where_something_is_drawn():
    for path in sorted(p for package in ("agent", "envs", "evolve") for p in (ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text())
        top_level = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
        top_level |= {node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
        assert "pygame" not in top_level, f"{path.relative_to(ROOT)} imports pygame at module level"
