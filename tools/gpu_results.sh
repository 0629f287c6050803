#!/usr/bin/env bash
# The GPU results: the mixed precision and homework notebooks at their full settings, the GPU benchmark, and
# slowai_eval on a 2-epoch run. Run from the repository root on a machine with one CUDA GPU:
#     bash tools/gpu_results.sh OUTDIR
# Executed notebooks, the trained model, JSON results and a log land in OUTDIR. Each stage has a time limit, so a
# stage that overruns costs only itself.
set -u
out=${1:?usage: bash tools/gpu_results.sh OUTDIR}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
log="$out/log.txt"
stage() {
    local secs=$1; shift
    echo "== $* (limit ${secs} s) $(date +%T)" | tee -a "$log"
    timeout "$secs" "$@" >>"$log" 2>&1
    echo "== exit $? $(date +%T)" | tee -a "$log"
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$log"
python3 -c "import sys, torch, diffusers, accelerate; print('python', sys.version.split()[0], 'torch', torch.__version__, 'diffusers', diffusers.__version__, 'accelerate', accelerate.__version__)" | tee -a "$log"
stage 300 python3 tools/exec_nb.py nbs/03_mixed_precision.ipynb --dest "$out/03_mixed_precision.ipynb"
cp slowai/models/fashion-ddpm/diffusion_pytorch_model.safetensors slowai/models/fashion-ddpm/config.json slowai/models/fashion-ddpm/schedule.json "$out/"
stage 900 python3 tools/exec_nb.py nbs/05_homework.ipynb --dest "$out/05_homework.ipynb"
if [ -f bench/gpu.py ]; then stage 150 python3 bench/gpu.py --json "$out/gpu_bench.json"; fi
run=$(mktemp -d)/run2
stage 400 bash -c "python3 -c 'from slowai.cli import train_main; train_main()' --out $run --epochs 2 --device cuda --samples 0 \
    && python3 -c 'from slowai.cli import eval_main; eval_main()' --run $run --n 2000 --batch 2000 --device cuda --out $out/eval_2epoch.json"
tail -c 3000 "$log"
