#!/usr/bin/env bash
# The GPU checks of issue 22, for a machine with an NVIDIA GPU (e.g. the lent H200): a fresh virtual
# environment with the test and cuda extras, the tests marked gpu, then `tilerunner bench cuda` at
# population 300/1,000/3,000 on 32 and 600 levels. Writes everything to ${OUT:-gpu-check}/.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check}
mkdir -p "$out"
venv=$(mktemp -d)/venv
{ python3 -m venv "$venv" && "$venv/bin/pip" install -q -e ".[test,cuda]"; } > "$out/install.log" 2>&1 || {
  echo "install failed: see $out/install.log"; exit 1; }
nvidia-smi > "$out/nvidia-smi.txt" 2>&1
"$venv/bin/python" -m pytest -m gpu -q -rA tests/test_cuda_backend.py > "$out/gpu-tests.log" 2>&1
echo "gpu tests: exit $?" | tee -a "$out/summary.txt"
"$venv/bin/tilerunner" bench cuda --level gen:1-32:3 --level gen:1-600:3 --sizes 300,1000,3000 --repeats 3 \
  > "$out/bench-cuda.txt" 2>&1
echo "bench cuda: exit $?" | tee -a "$out/summary.txt"
"$venv/bin/tilerunner" bench cuda --level gen:1-600:3 --sizes 1000 --repeats 3 --batch-breeding \
  > "$out/bench-cuda-batch.txt" 2>&1
echo "bench cuda --batch-breeding: exit $?" | tee -a "$out/summary.txt"
"$venv/bin/tilerunner" bench cuda --level gen:1-600:3 --sizes 1000 --repeats 3 --observe jump,foresight,no-grid \
  > "$out/bench-cuda-foresight.txt" 2>&1
echo "bench cuda --observe jump,foresight,no-grid: exit $?" | tee -a "$out/summary.txt"
