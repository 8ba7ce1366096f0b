#!/usr/bin/env bash
# The GPU checks of one device session, in about 7 minutes (an H200): the CUDA tests on the
# GPU with numba-cuda's launch path (the default) and with seqforecast's direct launches
# (SEQFORECAST_CUDA_DIRECT_LAUNCH=1), the launch counts, host against GPU time, and
# bench_cuda.py, each both ways.
#
#     bash benchmarks/device_check.sh [OUTPUT_DIR]      # default: $OUT, else ./device-check
#
# Run from the repository root.  Wheels in .whl/ are installed first (to /tmp/site): the
# image of 2026-12 had numpy 2.5, whose removal of np.row_stack breaks numba-cuda 0.30.4,
# so a session carries numpy 2.4 there (see the device tool's notes on carrying wheels).
set -o pipefail
out=${1:-${OUT:-device-check}}
mkdir -p "$out"
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD:$PWD/benchmarks PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv | tee "$out/versions.txt"
python3 -c "import numba, numba_cuda, numpy, torch; print('numba', numba.__version__, \
'numba-cuda', numba_cuda.__version__, 'numpy', numpy.__version__, 'torch', torch.__version__)" \
    2>&1 | tee -a "$out/versions.txt" || exit 1
start=$SECONDS
status=0
for direct in 0 1; do
    SEQFORECAST_CUDA_DIRECT_LAUNCH=$direct timeout 150 python3 -m pytest tests/cuda -q \
        -p no:cacheprovider -n 4 2>&1 | tail -20 | tee "$out/pytest_direct$direct.txt"
    summary=$(tail -1 "$out/pytest_direct$direct.txt")
    [[ $summary =~ [0-9]+\ passed && ! $summary =~ [0-9]+\ (failed|error) ]] || status=1
    echo "elapsed $((SECONDS - start)) s"
done
export PYTHONWARNINGS=ignore
timeout 30 python3 benchmarks/profile_cuda.py --count 2>&1 | tee "$out/count.txt"
for direct in 0 1; do
    SEQFORECAST_CUDA_DIRECT_LAUNCH=$direct timeout 40 python3 benchmarks/profile_cuda.py --host \
        2>&1 | tee "$out/host_direct$direct.txt"
done
for direct in 0 1; do
    SEQFORECAST_CUDA_DIRECT_LAUNCH=$direct timeout 100 python3 benchmarks/bench_cuda.py \
        --budget 70 2>&1 | tee "$out/bench_direct$direct.txt"
    echo "elapsed $((SECONDS - start)) s"
done
exit $status
