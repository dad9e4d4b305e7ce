"""The house rules: dependencies flow one way between rooms, no private names cross modules, and
pygame and argparse stay out of the places that must not need them."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Each room (folder) and the installed package it is.
ROOMS = {
    "agent": "tilerunner.agent",
    "envs": "tilerunner.envs",
    "evolve/core": "tilerunner.evolve.core",
    "evolve/baselines": "tilerunner.evolve.baselines",
    "evolve/runs": "tilerunner.evolve.runs",
    "evolve/viewer": "tilerunner.evolve.viewer",
    "evolve/commands": "tilerunner.evolve.commands",
    "evolve/flags": "tilerunner.evolve.flags",
    "evolve/bench": "tilerunner.evolve.bench",
    "evolve/api": "tilerunner",
}
LIBRARY = ("evolve/core", "evolve/baselines", "evolve/runs")
# Rooms a room may use besides itself. The library is core, the baselines (played by core's kernels) and runs,
# over agent and envs; the viewer uses the library; the benchmarks the library, the viewer and the flag types;
# the commands everything.
WITH_LIBRARY = {"agent", "envs", *LIBRARY}
ALLOWED = {
    "agent": set(),
    "envs": set(),
    "evolve/core": {"agent", "envs"},
    "evolve/baselines": {"envs", "evolve/core"},
    "evolve/runs": {"agent", "envs", "evolve/core", "evolve/baselines"},
    "evolve/viewer": WITH_LIBRARY,
    "evolve/flags": {"envs", "evolve/core"},  # argparse types the commands and the benchmarks share
    "evolve/bench": {*WITH_LIBRARY, "evolve/viewer", "evolve/flags"},
    "evolve/commands": {*WITH_LIBRARY, "evolve/viewer", "evolve/bench", "evolve/flags"},
    "evolve/api": {"agent", "envs", "evolve/core", "evolve/runs", "evolve/viewer", "evolve/commands"},  # `python -m`
}
# The one way back: fitness relative to hold-right needs hold-right's outcomes, so core may play the baselines,
# but only from inside a function of the module that scores fitness (importing core never loads them).
LATE = {("evolve/core", "evolve/baselines"): {"evolve/core/fitness.py"}}


def modules(room: str) -> list[pathlib.Path]:
    folder = ROOT / room
    return sorted(folder.glob("*.py") if room == "envs" or room == "agent" else folder.rglob("*.py"))


def dotted(path: pathlib.Path) -> str:
    """The installed module name of a source file."""
    for room, package in sorted(ROOMS.items(), key=lambda kv: -len(kv[0])):
        folder = ROOT / room
        if folder in path.parents:
            rest = path.relative_to(folder).with_suffix("").parts
            return ".".join([package, *[p for p in rest if p != "__init__"]])
    raise AssertionError(f"{path} is in no room")


def room_of(module: str) -> str | None:
    """The room a `tilerunner...` module belongs to (None for outside modules)."""
    best = None
    for room, package in ROOMS.items():
        if module == package or module.startswith(package + "."):
            if best is None or len(ROOMS[best]) < len(package):
                best = room
    return best


_MODULE_NAMES = {dotted(p) for room in ROOMS for p in modules(room)} - {"tilerunner"}  # a bare name is no import


def top_level_modules(tree: ast.Module) -> set[str]:
    """The modules a file imports when it is loaded (its module-level imports)."""
    found = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    return found | {node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}


def imports(path: pathlib.Path) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, line) for every import in a file, at any depth, and every module named
    in a string for `importlib` to import later (`import_module("tilerunner....")`, the API's lazy table)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.relative_to(ROOT)}:{node.lineno}: use absolute imports (tilerunner....)"
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in _MODULE_NAMES:
            found.append((node.value, [], node.lineno))
    return found


def late_use(path: pathlib.Path, room: str, used: str | None) -> bool:
    """Whether `path` may import `used` from inside a function (`LATE`)."""
    return str(path.relative_to(ROOT)) in LATE.get((room, used), ())


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_dependencies_flow_one_way(room):
    for path in modules(room):
        loaded = top_level_modules(ast.parse(path.read_text()))
        for module, _, line in imports(path):
            if not module.startswith("tilerunner"):
                assert module.split(".")[0] not in {"agent", "envs", "evolve"}, f"{path}:{line}: {module}"
                continue
            used = room_of(module)
            if late_use(path, room, used):
                assert module not in loaded, f"{path.relative_to(ROOT)}:{line} imports {module} when it is loaded"
                continue
            assert used == room or used in ALLOWED[room], f"{path.relative_to(ROOT)}:{line} imports {module}"


def test_no_room_imports_one_that_imports_it_back():
    used = {room: set() for room in ALLOWED}
    for room in ALLOWED:
        for path in modules(room):
            used[room] |= {
                r
                for module, _, _ in imports(path)
                if (r := room_of(module)) not in (None, room) and not late_use(path, room, r)
            }
    for room, others in used.items():
        for other in others:
            assert room not in used[other], f"{room} and {other} import each other"


def test_loading_every_module_of_core_loads_no_baseline():
    """Core plays hold-right only when a fitness asks for it (`LATE`): the evolution library alone is core."""
    names = [dotted(p) for p in modules("evolve/core")]
    code = (
        f"import importlib, sys\nfor name in {names!r}:\n    importlib.import_module(name)\n"
        "loaded = [m for m in sys.modules if m.startswith('tilerunner.evolve.baselines')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)


def test_the_apis_lazy_names_are_where_it_says():
    import importlib

    import tilerunner

    for name, module in tilerunner._LAZY.items():
        assert room_of(module) in ALLOWED["evolve/api"], (name, module)
        assert hasattr(importlib.import_module(module), name), f"tilerunner.{name} is not in {module}"
        assert getattr(tilerunner, name) is getattr(importlib.import_module(module), name)


def test_no_private_name_crosses_modules():
    files = [p for room in ALLOWED for p in modules(room)]
    module_names = {dotted(p) for p in files}
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        aliases = set()  # local names bound to the project's own modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tilerunner"):
                for alias in node.names:
                    assert not alias.name.startswith("_"), (
                        f"{path.relative_to(ROOT)}:{node.lineno} imports private {node.module}.{alias.name}"
                    )
                    if f"{node.module}.{alias.name}" in module_names:
                        aliases.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                aliases |= {a.asname for a in node.names if a.name.startswith("tilerunner") and a.asname}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} uses private {node.value.id}.{node.attr}")


def test_pygame_is_imported_only_where_something_is_drawn():
    for path in (p for room in ALLOWED for p in modules(room)):
        top_level = top_level_modules(ast.parse(path.read_text()))
        assert "pygame" not in top_level, f"{path.relative_to(ROOT)} imports pygame at module level"


def test_ray_is_imported_only_by_its_backend_and_only_when_chosen():
    for path in (p for room in ALLOWED for p in modules(room)):
        found = [(module, line) for module, _, line in imports(path) if module.split(".")[0] == "ray"]
        top_level = top_level_modules(ast.parse(path.read_text()))
        assert not any(m.split(".")[0] == "ray" for m in top_level), f"{path.relative_to(ROOT)} imports Ray at load"
        if found:
            assert path.parent == ROOT / "evolve" / "core" and path.name.startswith("ray_"), f"{path} imports Ray"
    # A whole run on local threads, through the API and the command's modules, never loads Ray.
    code = (
        "import sys, tilerunner; import tilerunner.evolve.commands.cli;"
        " tilerunner.evolve_agents(['1-1'], generations=2, pop=10);"
        " assert 'ray' not in sys.modules, 'Ray was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)


def test_numba_cuda_is_imported_only_by_the_cuda_backend_and_only_when_chosen():
    def is_cuda(module: str, names: list[str]) -> bool:
        return module.startswith(("numba.cuda", "numba_cuda")) or (module == "numba" and "cuda" in names)

    allowed = {ROOT / "evolve" / "core" / "cuda_rollout.py", ROOT / "evolve" / "core" / "cuda_backend.py"}
    for path in (p for room in ALLOWED for p in modules(room)):
        found = [line for module, names, line in imports(path) if is_cuda(module, names)]
        assert not found or path in allowed, f"{path.relative_to(ROOT)}:{found[0]} imports numba.cuda"
    tree = ast.parse((ROOT / "evolve" / "core" / "cuda_backend.py").read_text())
    assert not any(
        is_cuda(n.module or "", [a.name for a in n.names]) for n in tree.body if isinstance(n, ast.ImportFrom)
    ), "cuda_backend imports numba.cuda at load"
    # A whole run on local threads, through the API and the command's modules, never loads numba.cuda.
    code = (
        "import sys, tilerunner; import tilerunner.evolve.commands.cli;"
        " tilerunner.evolve_agents(['1-1'], generations=2, pop=10);"
        " assert not any(m.startswith(('numba.cuda', 'numba_cuda')) for m in sys.modules), 'CUDA was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)


@pytest.mark.parametrize("room", LIBRARY)
def test_the_library_has_no_argparse_and_no_pygame(room):
    for path in modules(room):
        used = {module.split(".")[0] for module, _, _ in imports(path)} & {"argparse", "pygame", "tqdm"}
        assert not used, f"{path.relative_to(ROOT)} uses {sorted(used)}"


DOCS = ROOT / "evolve" / "docs"  # the docs site's sources and its build hook: not installed, in no room


def test_every_source_file_is_in_a_room():
    for package in ("agent", "envs", "evolve"):
        for path in (ROOT / package).rglob("*.py"):
            if path != ROOT / "evolve" / "__init__.py" and DOCS not in path.parents:
                dotted(path)
    assert not (DOCS / "__init__.py").exists()  # so that setuptools never installs it


def test_the_docs_hook_uses_only_the_commands_room():
    for module, _, line in imports(DOCS / "hooks.py"):
        if module.startswith("tilerunner"):
            assert room_of(module) == "evolve/commands", f"evolve/docs/hooks.py:{line} imports {module}"
