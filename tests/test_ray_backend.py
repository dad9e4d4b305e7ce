"""The Ray backend, on a real local Ray (127.0.0.1, 2 CPUs): the same runs as local threads, actors lost
mid-run without losing anything, runs resumed across backends, Ctrl-C, and no Ray process left behind."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("ray") is None:  # the test extra brings Ray; CI always has it
    pytest.skip("Ray is not installed (pip install -e '.[test]')", allow_module_level=True)

from tilerunner.evolve.core.backend import BackendError
from tilerunner.evolve.core.ray_backend import LOCAL_RAY_ENV, RayBackend
from tilerunner.evolve.runs.reporting import RunReporter
from tilerunner.evolve.runs.run import Run

LEVELS = ["1-1", "1-2", "2-3"]
POP = 24


def ray_processes() -> set[int]:
    """Process ids of Ray's own processes on this machine (its servers and workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
            state = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if "Z" not in state.split()[1] and (name in ("gcs_server", "raylet") or name.startswith("ray::")):
            found.add(int(entry.name))
    return found


def wait_gone(pids: set[int], seconds: float = 30) -> set[int]:
    """The processes of `pids` still running after waiting up to `seconds` for them to end."""
    deadline = time.monotonic() + seconds
    while (left := pids & ray_processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_ctrl_c_on_ray_checkpoints_exits_130_and_leaves_no_ray_behind(tmp_path):
    """The command starts its own Ray; Ctrl-C in a terminal reaches the whole process group. (First in the
    module, before the module's own Ray starts, so that every Ray process seen is the command's.)"""
    before = ray_processes()
    run = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-m", "tilerunner", "evolve", "--level", "2-4", "--pop", "40",
                             "--generations", "100000", "--keep-going", "--out", str(run), "--backend", "ray",
                             "--actors", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not ((run / "stats.jsonl").exists() and (run / "stats.jsonl").read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert "ray: 2 actors on 1 node (2 CPUs), a local Ray on 127.0.0.1" in out
    assert f"Resume with: tilerunner evolve --resume {run}" in err and "Traceback" not in err
    assert not wait_gone(ray_processes() - before), "the run's Ray outlived it"
    played = len(stats(run))
    done = subprocess.run([sys.executable, "-m", "tilerunner", "evolve", "--resume", str(run), "--generations",
                           str(played + 1), "--quiet"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(stats(run)) == played + 1


@pytest.fixture(scope="module")
def local_ray():
    """One real Ray for the module: 2 CPUs, every socket on 127.0.0.1, and all of it gone afterwards."""
    before = ray_processes()
    for key, value in LOCAL_RAY_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        assert ray.util.get_node_ip_address() == "127.0.0.1"
        yield ray
    finally:
        started = ray_processes() - before
        ray.shutdown()
        assert not wait_gone(started), "Ray processes outlived the tests"


def stats(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "stats.jsonl").read_text().splitlines()]


def timing(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "timing.jsonl").read_text().splitlines()]


def run_folder(path: Path, backend, generations: int = 4, **kwargs) -> Path:
    Run.create(kwargs.pop("levels", LEVELS), seed=5, pop=POP, generations=generations, keep_going=True, out=path,
               backend=backend, **kwargs).run()
    return path


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    return run_folder(tmp_path_factory.mktemp("local") / "run", "local")


class Killer(RunReporter):
    """Kills actors' processes (SIGKILL, as a lost node) when a generation starts, before it is played."""

    def __init__(self, backend: RayBackend, generation: int, how_many: int) -> None:
        self.backend, self.generation, self.how_many = backend, generation, how_many

    def start_generation(self, generation: int) -> None:
        if generation == self.generation:
            for pid in self.backend.actor_pids()[:self.how_many]:
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("actors", [1, 2])
def test_a_run_on_ray_is_the_run_on_local_threads(local_ray, local_run, tmp_path, actors):
    notices = []
    backend = RayBackend(actors=actors, notify=notices.append)
    folder = run_folder(tmp_path / "ray", backend)
    assert stats(folder) == stats(local_run)
    assert notices == [f"ray: {actors} actor{'s' if actors > 1 else ''} on 1 node (2 CPUs), the Ray cluster at"
                       f" {local_ray.get_runtime_context().gcs_address}"]
    assert all(row["shipped_bytes"] > 0 and row["retried"] == 0 for row in timing(folder))
    assert backend.actors == []  # stopped at the end of the run; the Ray it joined goes on
    assert local_ray.is_initialized()


def test_draws_and_fresh_levels_play_the_same_on_ray(local_ray, tmp_path):
    for name, kwargs in [("draw", {"levels_per_gen": 2}), ("fresh", {"levels": ["gen:*:1"], "levels_per_gen": 2})]:
        local = run_folder(tmp_path / f"{name}-local", "local", generations=3, **kwargs)
        ray = run_folder(tmp_path / f"{name}-ray", RayBackend(actors=2), generations=3, **kwargs)
        assert stats(ray) == stats(local), name
        assert all("levels" in row for row in stats(ray))


def test_the_level_set_is_shipped_once_not_every_generation(local_ray, tmp_path):
    from tilerunner.envs.level import load_level
    from tilerunner.evolve.core.rollout import pack_levels

    levels = [f"gen:{seed}:2" for seed in range(1, 41)]
    set_bytes = sum(a.nbytes for a in pack_levels([load_level(lv) for lv in levels]))
    folder = run_folder(tmp_path / "ray", RayBackend(actors=2), generations=3, levels=levels, levels_per_gen=4)
    networks = [row["shipped_bytes"] for row in timing(folder)]
    assert max(networks) < set_bytes  # each generation ships its networks and 4 indices, never the 40 levels


def test_an_actor_killed_mid_run_loses_nothing(local_ray, local_run, tmp_path):
    notices = []
    backend = RayBackend(actors=2, notify=notices.append)
    run = Run.create(LEVELS, seed=5, pop=POP, generations=4, keep_going=True, out=tmp_path / "ray", backend=backend)
    run.add_reporter(Killer(backend, generation=2, how_many=1))
    run.run()
    assert stats(tmp_path / "ray") == stats(local_run)
    lost = [n for n in notices if "died" in n]
    assert len(lost) == 1 and "genomes are played again; 1 actor left" in lost[0]
    assert [row["retried"] for row in timing(tmp_path / "ray")] == [0, 0, 1, 0]


def test_with_every_actor_gone_the_run_checkpoints_and_resumes_on_local_threads(local_ray, local_run, tmp_path):
    backend = RayBackend(actors=2)
    run = Run.create(LEVELS, seed=5, pop=POP, generations=4, keep_going=True, out=tmp_path / "ray", backend=backend,
                     checkpoint_every=100)
    run.add_reporter(Killer(backend, generation=2, how_many=2))
    with pytest.raises(BackendError, match="every Ray actor is gone"):
        run.run()
    assert len(stats(tmp_path / "ray")) == 2  # generations 0 and 1, kept
    resumed = Run.resume(tmp_path / "ray", backend="local")
    assert resumed.generation == 2
    resumed.run()
    assert stats(tmp_path / "ray") == stats(local_run)


def test_a_local_run_resumes_on_ray(local_ray, local_run, tmp_path):
    run_folder(tmp_path / "run", "local", generations=2)
    Run.resume(tmp_path / "run", generations=4, backend=RayBackend(actors=2)).run()
    assert stats(tmp_path / "run") == stats(local_run)


def test_more_actors_than_cpus_is_one_clear_error(local_ray, tmp_path):
    run = Run.create(LEVELS, seed=5, pop=POP, generations=2, out=tmp_path / "ray", backend=RayBackend(actors=3))
    with pytest.raises(BackendError, match="3 actors asked for, but the Ray cluster has 2 CPUs"):
        run.run()


def test_bench_ray_times_the_same_generation_on_each_backend(local_ray, capsys):
    from tilerunner.evolve.commands.cli import main

    code = main(["bench", "ray", "--levels", "gen:1-3:1", "--pop", "30", "--warmup", "2", "--repeats", "2",
                 "--actors", "1,2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "the same results on every backend: yes" in out
    rows = [line.split("  ")[0] for line in out.splitlines() if line.startswith(("local threads", "ray, "))]
    assert rows[0].startswith("local threads (") and rows[1:] == ["ray, 1 actor", "ray, 2 actors"], out
    assert re.search(r"ray, 2 actors +[\d.]+s +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d,]+ KB +[+-]\d+%", out), out
    assert re.search(r"target: Ray's overhead at most 10% on this machine: (met|MISSED)", out)
    assert re.search(r" 10 nodes: [\d.]+ s a generation.*\n +100 nodes: [\d.]+ s a generation", out)
    assert local_ray.is_initialized()  # it used the Ray it found, and left it running


@pytest.mark.parametrize("address, needle", [
    ("127.0.0.1:1", "cannot reach a Ray cluster at 127.0.0.1:1: Connection refused"),
    ("nonsense", "--address 'nonsense': expected auto or HOST:PORT"),
])
def test_a_cluster_that_cannot_be_reached_is_one_line_before_anything_is_made(tmp_path, capsys, address, needle):
    from tilerunner.evolve.commands.cli import main

    started = time.monotonic()
    code = main(["evolve", "--backend", "ray", "--address", address, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists() and time.monotonic() - started < 60
