"""The CUDA backend: the same runs as local threads, in Numba's CUDA simulator here, on a GPU where there is one.

CI has no GPU. The simulator (`NUMBA_ENABLE_CUDASIM=1`, set before Numba loads, so in a process of its own)
runs the real kernel's bookkeeping (scratch rows, pairs per thread, resident levels, fresh levels, results)
at tiny sizes; the kernel compiled for a real GPU is checked where numba-cuda's compiler is installed (it
must compile, with no fused multiply-add and no device-library transcendental); the `gpu` tests play full
sizes on the device and compare every number with local threads.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tilerunner.evolve.commands.cli import main

HERE = Path(__file__).parent


def in_simulator(code: str, timeout: float = 600) -> dict:
    """Run `code` in a fresh Python with the CUDA simulator on; the JSON it prints last."""
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(HERE))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def has_gpu() -> bool:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0") or importlib.util.find_spec("numba_cuda") is None:
        return False
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


RUNS = """
import json
from tilerunner.evolve.runs.run import Run
from tilerunner.evolve.core.cuda_backend import CudaBackend
from tilerunner.evolve.core.fitness import EpisodeSettings

def stats(path):
    return (path / "stats.jsonl").read_text()

def run(path, backend, levels, generations=3, **kw):
    Run.create(levels, seed=3, pop=10, generations=generations, keep_going=True, out=path, backend=backend,
               **kw).run()
    return path

import pathlib, tempfile
tmp = pathlib.Path(tempfile.mkdtemp())
senses = EpisodeSettings(features=("jump", "probes", "enemy-grid", "position", "speed", "enemy-kinds"),
                         jump_rule="press", max_frames=1500)
cases = {
    "fixed": (["1-1", "1-2"], {}),
    "memory, every sense, press": (["1-1", "2-1"], {"memory": True, "settings": senses}),
    "draw": (["1-1", "1-2", "1-3", "2-1"], {"levels_per_gen": 2}),
    "fresh": (["gen:*:1"], {"levels_per_gen": 2}),
}
verdicts = {}
for name, (levels, kw) in cases.items():
    local = run(tmp / f"{name}-local", "local", levels, **kw)
    gpu = run(tmp / f"{name}-cuda", CudaBackend(threads=7), levels, **kw)  # fewer threads than pairs
    verdicts[name] = stats(gpu) == stats(local) and stats(local).count("\\n") == 3
# Resumed across backends: two generations on threads, two more on the GPU, as four on threads.
run(tmp / "mixed", "local", ["1-1"], generations=2)
Run.resume(tmp / "mixed", generations=4, backend=CudaBackend()).run()
verdicts["resumed on the other backend"] = stats(tmp / "mixed") == stats(run(tmp / "four", "local", ["1-1"], 4))
print(json.dumps(verdicts))
"""


@pytest.mark.slow
def test_runs_on_the_cuda_kernel_are_the_runs_on_local_threads():
    verdicts = in_simulator(RUNS)
    assert verdicts == {name: True for name in verdicts} and len(verdicts) == 5, verdicts


SCRATCH = """
import json
import numpy as np
from neatcfg import grow, make_config
import pathlib, tempfile
from tilerunner.agent import compile_population
from tilerunner.envs.level import load_level
from tilerunner.evolve.core.cuda_backend import CudaBackend
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.rollout import play_networks, pack_levels

config = make_config(pathlib.Path(tempfile.mkdtemp()), num_inputs="169", num_outputs="6", node_add_prob="0.6")
genomes = grow(config, 9, seed=4)
nets = [compile_population([g], config) for g in genomes]
levels = pack_levels([load_level(x) for x in ("1-1", "1-4", "2-2")])
settings = EpisodeSettings(max_frames=900).kernel_settings()
expected = play_networks(compile_population(genomes, config), levels, settings)
backend = CudaBackend(threads=5)
backend.set_levels(levels)
first, timing = backend.play_networks(nets[:4], settings, indices=np.array([2, 0]))
grown = backend._scratch.fit({k: v for k, v in backend._scratch.sizes.items()})
again, _ = backend.play_networks(nets, settings)
sizes = dict(backend._scratch.sizes)
from tilerunner.agent import pack
net_bytes = sum(np.ascontiguousarray(a).nbytes for a in pack(nets[:4])[2:15]) + 2 * 8  # and two level indices
print(json.dumps({"net bytes": net_bytes,
    "first": bool(np.array_equal(first, expected[:4][:, [2, 0]])), "all": bool(np.array_equal(again, expected)),
    "refit allocates": grown, "tiles": sizes["tiles"], "largest": int(max(lv.size for lv in [load_level(x).tiles
        for x in ("1-1", "1-4", "2-2")])), "shipped": timing.shipped_bytes, "compile": backend.compile_seconds,
}))
"""


@pytest.mark.slow
def test_the_kernel_plays_any_pairs_in_scratch_made_once_for_the_largest_level():
    got = in_simulator(SCRATCH)
    assert got["first"] and got["all"]  # indices of the resident set, then all of it, with 5 threads for 27 pairs
    assert got["refit allocates"] is False  # buffers big enough are kept, not made again
    assert got["tiles"] == got["largest"]
    assert got["shipped"] == got["net bytes"]  # the networks and two level indices, not the levels


FORESIGHT = """
import json, pathlib, tempfile
import numpy as np
from neatcfg import grow, make_config
from tilerunner.agent import compile_population
from tilerunner.envs.foresight import sight_sizes
from tilerunner.envs.level import parse_level
from tilerunner.evolve.core.cuda_backend import CudaBackend
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import R_FRAMES
from tilerunner.evolve.core.rollout import pack_levels, play_networks

settings = EpisodeSettings(features=("speed", "foresight"), jump_rule="press", max_frames=900)
config = make_config(pathlib.Path(tempfile.mkdtemp()), num_inputs=str(settings.n_inputs), num_outputs="6",
                     initial_connection="full_direct")
genomes = grow(config, 5, seed=4, mutations=2)
for g in genomes:  # the grid's links out: what they press comes from speed and foresight
    for key in [k for k in g.connections if -169 <= k[0] <= -1]:
        del g.connections[key]
rows = ["-" * 28] * 3
levels = [
    parse_level("\\n".join([*rows, "-M-------g-------y--#------F", "XXXXXXXXXX---XXXXXXXXXXXXXXX", "X" * 28]) + "\\n"),
    parse_level("\\n".join([*rows, "-M------------------------F-", "XXXXXX-XXXX---XXXXXXX--XXXXX", "X" * 28]) + "\\n"),
]
packed = pack_levels(levels)
expected = play_networks(compile_population(genomes, config), packed, settings.kernel_settings())
backend = CudaBackend(threads=3)  # fewer threads than the 10 pairs
backend.set_levels(packed)
got, _ = backend.play_networks([compile_population([g], config) for g in genomes], settings.kernel_settings())
sizes = backend._scratch.sizes
print(json.dumps({"same": bool(np.array_equal(got, expected)), "episodes": len(set(expected[:, :, R_FRAMES].ravel())),
                  "sight": [sizes["sight_tiles"], sizes["sight_ints"]], "needed": list(sight_sizes(6))}))
"""


@pytest.mark.slow
def test_the_kernel_plays_networks_that_see_foresight_as_local_threads_do():
    got = in_simulator(FORESIGHT)
    assert got["same"] and got["episodes"] >= 5  # the same rows, for episodes that differ
    assert got["sight"] == got["needed"]  # each thread's foresight scratch, sized for the view


def test_no_gpu_is_one_line_and_exit_2_before_a_run_folder_exists(tmp_path, capsys):
    if has_gpu():
        pytest.skip("this machine has a GPU")
    out = tmp_path / "run"
    assert main(["evolve", "--backend", "cuda", "--generations", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tilerunner: error:")
    assert "tilerunner[cuda]" in err[0] or "no CUDA GPU" in err[0]
    assert not out.exists()


def test_address_and_actors_are_refused_with_the_cuda_backend(capsys):
    assert main(["evolve", "--backend", "cuda", "--actors", "2"]) == 2
    assert "for the Ray backend" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_cuda_times_both_backends_on_the_same_episodes():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tilerunner.evolve.commands.cli",
            "bench",
            "cuda",
            "--sizes",
            "6,8",
            "--level",
            "gen:1-3:1",
            "--level",
            "1-1",
            "--warmup",
            "1",
            "--repeats",
            "2",
            "--workers",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("tilerunner bench cuda: Numba CUDA simulator, 32 GPU threads, against 1 CPU threads")
    rows = [line.split() for line in lines if line.strip()[:1].isdigit()]
    assert [(r[0], r[1]) for r in rows] == [("3", "6"), ("3", "8"), ("1", "6"), ("1", "8")]
    assert all(int(r[2].replace(",", "")) > 0 and r[7].endswith("x") for r in rows)  # frames, speed-up
    assert "the same results on both: yes" in done.stdout
    assert "targets: not judged" in done.stdout


def test_bench_cuda_without_a_gpu_is_one_line(capsys):
    if has_gpu():
        pytest.skip("this machine has a GPU")
    assert main(["bench", "cuda", "--sizes", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tilerunner: error:")


PTX = """
import json, re, types
import numba, numpy as np
import numba.cuda.dispatcher as dispatcher
from numba import cuda
# Device functions ask the current device for its compute capability; there is no device here.
dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
from tilerunner.agent import compile_population
from tilerunner.envs import physics as P
from tilerunner.envs.level import load_level
from tilerunner.evolve.core import cuda_rollout as R
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import FIELDS
from tilerunner.evolve.core.rollout import pack_levels
from neatcfg import grow, make_config
import pathlib, tempfile
config = make_config(pathlib.Path(tempfile.mkdtemp()))
net = compile_population(grow(config, 2, seed=1), config)
from tilerunner.envs.foresight import sight_sizes
si, sf = R.settings_arrays(EpisodeSettings().kernel_settings())
t = 2
sight_tiles, sight_ints = sight_sizes(6)  # foresight's scratch, a row per thread
args = (net.n_inputs, net.n_outputs, net.max_in, *net[2:15], *pack_levels([load_level("1-1")]), np.zeros(1, np.int64),
        si, sf, np.zeros((t, 9), np.int8), np.zeros((t, P.STATE_SIZE), np.int64), np.zeros((t, 1, P.ENEMY_FIELDS),
        np.int64), np.zeros((t, 2, 4)), np.zeros((t, 4)), np.zeros((t, 1), np.int64), np.zeros((t, 1, 5)),
        np.zeros((t, 1, 6)), np.zeros((t, 2)), np.zeros((t, sight_tiles), np.int8), np.zeros((t, sight_ints), np.int64),
        np.zeros(0, np.int64), np.zeros((0, 2), np.int64), np.zeros((2, 1, FIELDS)))
with R.no_fma():
    ptx, _ = cuda.compile_ptx(R.rollout_kernel.py_func, tuple(numba.typeof(a) for a in args), cc=(9, 0))
print(json.dumps({"chars": len(ptx), "fma": len(re.findall(r"\\bfma\\.", ptx)),
                  "libdevice": sorted(set(re.findall(r"__nv_\\w+", ptx))), "entry": ".entry" in ptx}))
"""


def nvvm_available() -> bool:
    if importlib.util.find_spec("numba_cuda") is None:
        return False
    done = subprocess.run(
        [sys.executable, "-c", "from numba.cuda.cudadrv.nvvm import NVVM; NVVM()"], capture_output=True, timeout=120
    )
    return done.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not nvvm_available(), reason="needs numba-cuda and NVVM (pip install 'tilerunner[cuda]')")
def test_the_kernel_compiles_for_a_gpu_without_fused_multiply_add():
    env = dict(os.environ, PYTHONPATH=str(HERE))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PTX)], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["entry"] and got["chars"] > 10_000
    assert got["fma"] == 0  # one rounding where the CPU rounds twice would change the networks' outputs
    assert got["libdevice"] == []  # the device's exp/tanh/log/sin differ from the CPU's in the last bits


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="needs an NVIDIA GPU with numba-cuda")
def test_full_size_generation_on_the_gpu_is_identical_to_local_threads():
    from neatcfg import grow

    from tilerunner.agent import compile_population
    from tilerunner.envs.level import load_level
    from tilerunner.evolve.core.cuda_backend import CudaBackend
    from tilerunner.evolve.core.fitness import EpisodeSettings
    from tilerunner.evolve.core.neat_config import load_config
    from tilerunner.evolve.core.rollout import pack_levels, play_networks

    features = ("jump", "probes", "enemy-grid", "position", "speed", "enemy-kinds")
    settings = EpisodeSettings(features=features, jump_rule="press")
    config = load_config(
        genome_overrides={
            "num_inputs": settings.n_inputs,
            "memory_cells": "true",
            "memory_cell_prob": 0.6,
            "node_add_prob": 0.5,
        }
    )
    genomes = grow(config, 300, seed=8, max_mutations=60)
    levels = pack_levels([load_level(f"gen:{seed}:3") for seed in range(1, 33)])
    expected = play_networks(compile_population(genomes, config), levels, settings.kernel_settings())
    backend = CudaBackend()
    backend.set_levels(levels)
    got, _ = backend.play_networks([compile_population([g], config) for g in genomes], settings.kernel_settings())
    assert np.array_equal(got, expected)


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="needs an NVIDIA GPU with numba-cuda")
def test_full_size_run_on_the_gpu_is_the_run_on_local_threads(tmp_path):
    from tilerunner.evolve.core.cuda_backend import CudaBackend
    from tilerunner.evolve.core.fitness import EpisodeSettings
    from tilerunner.evolve.runs.run import Run

    settings = EpisodeSettings(features=("jump", "probes"), jump_rule="press")
    levels = [f"gen:{seed}:3" for seed in range(1, 601)]
    folders = {}
    for name, backend in (("local", "local"), ("cuda", CudaBackend())):
        folders[name] = tmp_path / name
        Run.create(
            levels,
            seed=2,
            pop=1000,
            generations=4,
            keep_going=True,
            out=folders[name],
            backend=backend,
            settings=settings,
            memory=True,
            levels_per_gen=64,
        ).run()
    stats = {name: (folder / "stats.jsonl").read_text() for name, folder in folders.items()}
    assert stats["cuda"] == stats["local"] and stats["local"].count("\n") == 4
