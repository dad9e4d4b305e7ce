"""One installed package: everything lives under `tilerunner`, nothing shadows it, and a wheel carries its data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import tilerunner

ROOT = Path(__file__).resolve().parents[1]


def python(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_users_own_envs_and_agent_do_not_shadow_tilerunner(tmp_path):
    # A project of the user's own with the names tilerunner's folders have in the repository.
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "__init__.py").write_text("raise ImportError('the user envs package')\n")
    (tmp_path / "agent.py").write_text("raise ImportError('the user agent module')\n")
    (tmp_path / "evolve.py").write_text("raise ImportError('the user evolve module')\n")
    make = python(
        tmp_path,
        "-c",
        (
            "import gymnasium as gym, tilerunner\n"
            "env = gym.make('tilerunner/TileRunner-v0', level='1-1')\n"
            "obs, info = env.reset(seed=0)\n"
            "print(obs.shape, info['status'])\n"
        ),
    )
    assert make.returncode == 0, make.stderr
    assert make.stdout.strip() == "(13, 13) running"
    cli = python(tmp_path, "-m", "tilerunner", "levels")
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith("1-1 ")


def test_nothing_is_installed_under_the_repository_folder_names(tmp_path):
    found = python(
        tmp_path, "-c", "import importlib.util as u; print([u.find_spec(n) for n in ('agent', 'envs', 'evolve')])"
    )
    assert found.stdout.strip() == "[None, None, None]", found.stderr


def test_version_and_license(capsys):
    from tilerunner.evolve.commands.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"tilerunner {tilerunner.__version__}\n"
    assert tilerunner.__version__ in (ROOT / "pyproject.toml").read_text()
    assert '\nlicense = "MIT"\n' in (ROOT / "pyproject.toml").read_text()  # the SPDX form (PEP 639)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


@pytest.mark.slow
def test_a_wheel_holds_one_package_with_its_levels_configs_and_replays(tmp_path):
    # Build from a copy: setuptools writes build/ and egg-info beside the sources, and tests write nothing here.
    source = tmp_path / "source"
    local = {".git", ".venv", "build", "tilerunner.egg-info", "runs", ".pytest_cache", ".hypothesis"}
    shutil.copytree(
        ROOT,
        source,
        ignore=lambda folder, names: [n for n in names if n == "__pycache__" or (n in local and Path(folder) == ROOT)],
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("tilerunner-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/")[0] for n in names if not n.startswith("tilerunner-")}
    assert packages == {"tilerunner"}
    for needed in (
        "tilerunner/__init__.py",
        "tilerunner/__main__.py",
        "tilerunner/envs/levels/1-1.txt",
        "tilerunner/evolve/core/configs/default.ini",
        "tilerunner/replays/2-3-f3311.json",
        "tilerunner/evolve/viewer/viewer.py",
    ):
        assert needed in names
    assert not any(n.startswith("tilerunner/evolve/api/") for n in names)  # api/ is `tilerunner` itself


@pytest.mark.slow
def test_the_source_distribution_carries_runnable_tests(tmp_path):
    source = tmp_path / "source"
    local = {".git", ".venv", "build", "tilerunner.egg-info", "runs", ".pytest_cache", ".hypothesis"}
    shutil.copytree(
        ROOT,
        source,
        ignore=lambda folder, names: [n for n in names if n == "__pycache__" or (n in local and Path(folder) == ROOT)],
    )
    built = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "-o", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (sdist,) = tmp_path.glob("tilerunner-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    tests = {n for n in names if n.startswith("tests/test_") and n.endswith(".py")}
    assert len(tests) > 30
    for needed in (
        "tests/conftest.py",
        "tests/neatcfg.py",
        "tests/data/neat_small.ini",
        "mkdocs.yml",
        "evolve/docs/hooks.py",
    ):
        assert needed in names, needed
    assert not any("__pycache__" in n for n in names)
