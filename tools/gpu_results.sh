#!/usr/bin/env bash
# Every result that needs a GPU, in stages, on a machine with one CUDA GPU, from the repository root:
#     bash tools/gpu_results.sh OUTDIR [STAGE ...]
# Stages (default: all, in this order; each has a time limit, so a stage that overruns costs only itself):
#   bench     bench/gpu.py: the seed's recipe (8 epochs, bs 512, lr 1e-2) in MixedPrecision float16 and bfloat16 and
#             AccelerateCB float16, the fast path (data on the GPU, channels_last, torch.compile, fused Adam), a
#             profile of one step, sampling times (about 8 minutes on an H100)
#   mixed     the mixed precision notebook at its full settings (saves its model in models/fashion-ddpm-mp)
#   homework  the homework notebook at its GPU settings
#   cli       slowai_train for 2 epochs, then slowai_eval on 2,000 samples
# Executed notebooks, the trained model, JSON results and a log land in OUTDIR.
set -u
out=${1:?usage: bash tools/gpu_results.sh OUTDIR [bench] [mixed] [homework] [cli]}
shift
stages=${*:-bench mixed homework cli}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
log="$out/log.txt"
stage() {
    local secs=$1; shift
    echo "== $* (limit ${secs} s) $(date +%T)" | tee -a "$log"
    timeout "$secs" "$@" >>"$log" 2>&1
    echo "== exit $? $(date +%T)" | tee -a "$log"
}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,power.limit --format=csv | tee -a "$log"
python3 -c "import sys, torch, diffusers, accelerate; print('python', sys.version.split()[0], 'torch', torch.__version__, 'diffusers', diffusers.__version__, 'accelerate', accelerate.__version__)" | tee -a "$log"
python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else "no CUDA device visible to torch " + torch.__version__)' || exit 1
for s in $stages; do
  case $s in
    bench) stage 540 python3 bench/gpu.py --device cuda --profile --json "$out/gpu_bench.json" ;;
    mixed)
      stage 300 python3 tools/run_nbs.py nbs/03_mixed_precision.ipynb --no-kernel --dest "$out/03_mixed_precision.ipynb"
      cp models/fashion-ddpm-mp/diffusion_pytorch_model.safetensors models/fashion-ddpm-mp/config.json \
         models/fashion-ddpm-mp/schedule.json "$out/" ;;
    homework) stage 900 python3 tools/run_nbs.py nbs/05_homework.ipynb --no-kernel --dest "$out/05_homework.ipynb" ;;
    cli)
      run=$(mktemp -d)/run2
      stage 400 bash -c "python3 -c 'from slowai.cli import train_main; train_main()' --out $run --epochs 2 --device cuda --samples 0 \
          && python3 -c 'from slowai.cli import eval_main; eval_main()' --run $run --n 2000 --batch 2000 --device cuda --out $out/eval_2epoch.json" ;;
    *) echo "unknown stage $s: expected bench, mixed, homework or cli" >&2; exit 2 ;;
  esac
done
tail -c 3000 "$log"
