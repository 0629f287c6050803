"""Training and sampling times of the DDPM U-Net on one GPU (or, for a quick check, on the CPU).

    python bench/gpu.py [--json results.json] [--bs 512] [--subset N] [--sample-steps 1000] [--device cuda]
    python bench/gpu.py --device cpu --subset 1024 --sample-steps 5      # a quick run of every path on the CPU

Times, each with a fresh `init_ddpm(fashion_unet())` and the recipe of the mixed-precision notebook (one-cycle to
lr 1e-2, Adam eps 1e-5, EMA), one epoch of `slowai.ddpm.train` on Fashion-MNIST (60,000 images unless `--subset`):
  fp32       plain float32;
  mixed      `slowai.mixed.MixedPrecision()`: float16 autocast + GradScaler on CUDA (on a CPU: its own choice);
  accelerate `slowai.accel.AccelerateCB(mixed_precision='fp16')` (bf16 on a CPU), if slowai.accel imports.
Each is preceded by a short warm-up fit of 2 batches (kernel selection, allocator), not timed. `train pass` is the
training pass alone (synchronised at both ends); `fit` adds the validation pass (10,000 test images) and the rest.
Then DDPM sampling of `--sample-n` images with `DDPM.sample` over `--sample-steps` steps (1000: the real schedule;
fewer: a `DDPM(n_steps=...)` schedule, same work per step), and, if `slowai.samplers` imports, DPM-Solver++ with
`--dpm-steps` steps for `--dpm-n` images. Prints a table and writes it with the settings to `--json`.
"""
import argparse
import contextlib
import io
import json
import os
import platform
import sys
import time
import traceback
from functools import partial

from pathlib import Path

import torch

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the repository's slowai when it is not installed
import diffusers
import slowai
from slowai.ddpm import DDPM, fashion_unet, train
from slowai.init import init_ddpm
from slowai.mixed import MixedPrecision
from slowai.prelude import BatchLoader, Callback, DataLoaders, get_dls
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/machine.py, also under python -P
from machine import cpu_model

try:
    from slowai.accel import AccelerateCB
except ImportError as e:
    AccelerateCB, ACCEL_ERR = None, f'{type(e).__name__}: {e}'
try:
    from slowai import samplers
except ImportError as e:
    samplers, SAMPLERS_ERR = None, f'{type(e).__name__}: {e}'


def sync(device: torch.device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


class TrainPassTimer(Callback):
    "Wall time of each training pass, synchronised with the device at both ends."
    order = 100
    def __init__(self, device): self.device, self.times, self.batches = device, [], 0
    def before_epoch(self, learn):
        if learn.training:
            sync(self.device)
            self.t0 = time.perf_counter()
    def after_epoch(self, learn):
        if learn.training:
            sync(self.device)
            self.times.append(time.perf_counter() - self.t0)
            self.batches = learn.iter + 1


def make_cbs(kind: str, device: torch.device) -> list:
    if kind == 'fp32': return []
    if kind == 'mixed': return [MixedPrecision()]
    mp = 'fp16' if device.type == 'cuda' else 'bf16'
    try:  # Accelerate keeps one configuration per process: start from a clean one for every run
        from accelerate.state import AcceleratorState
        AcceleratorState._reset_state(reset_partial_state=True)
    except Exception: pass
    return [AccelerateCB(mp, cpu=device.type != 'cuda')]


def fit_once(kind: str, dls, device: torch.device, lr: float):
    torch.manual_seed(0)
    model = init_ddpm(fashion_unet())
    timer = TrainPassTimer(device)
    extra = make_cbs(kind, device)
    sync(device)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as log:  # MetricsCB's table
        ddpm = train(model, lr=lr, n_epochs=1, dls=dls, device=device, progress=False, extra_cbs=extra + [timer],
                     opt_func=partial(torch.optim.Adam, eps=1e-5))
    sync(device)
    fit = time.perf_counter() - t0
    hist = ddpm.learn.history
    loss = next((r['loss'] for r in hist if r['train']), float('nan'))
    extra_info = ''
    if kind == 'mixed': extra_info = extra[0].plan.reason + (f', {sum(extra[0].skipped)} steps skipped' if extra[0].scaler else '')
    if kind == 'accelerate': extra_info = f'mixed_precision={extra[0].accelerator.mixed_precision}'
    return dict(train_pass_s=timer.times[0], fit_s=fit, batches=timer.batches, train_loss=loss, note=extra_info,
                log=log.getvalue()), ddpm


def save(path, info, settings, rows):
    "Write what is known so far, so that an interrupted run still leaves its finished rows."
    if path:
        with open(path, 'w') as f: json.dump(dict(machine=info, settings=settings, results=rows), f, indent=1)


def timed(device, f):
    sync(device)
    t0 = time.perf_counter()
    out = f()
    sync(device)
    return out, time.perf_counter() - t0


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu', help='cuda, cuda:N or cpu')
    ap.add_argument('--bs', type=int, default=512, help='training batch size')
    ap.add_argument('--lr', type=float, default=1e-2, help='peak one-cycle learning rate')
    ap.add_argument('--subset', type=int, default=None, help='train on the first SUBSET images (default: all 60,000)')
    ap.add_argument('--runs', default='fp32,mixed,accelerate', help='comma-separated training runs to time')
    ap.add_argument('--sample-steps', type=int, default=1000, help='DDPM sampling steps (1000: the full schedule)')
    ap.add_argument('--sample-n', type=int, default=256, help='images sampled with DDPM.sample')
    ap.add_argument('--dpm-steps', type=int, default=20, help='DPM-Solver++ steps')
    ap.add_argument('--dpm-n', type=int, default=None, help='images sampled with DPM-Solver++ (default 1000 on CUDA, 64 on CPU)')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    ap.add_argument('--cudnn-benchmark', action='store_true', help='set torch.backends.cudnn.benchmark')
    ap.add_argument('--json', default=None, help='write the results here as JSON')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    if device.type == 'cuda' and not torch.cuda.is_available(): sys.exit(f'--device {a.device}: CUDA is not available')
    if device.type == 'cuda': torch.backends.cudnn.benchmark = a.cudnn_benchmark
    dpm_n = a.dpm_n or (1000 if device.type == 'cuda' else 64)

    info = dict(cpu=cpu_model(), cores=os.cpu_count(), torch_threads=torch.get_num_threads(),
                python=platform.python_version(), torch=torch.__version__, diffusers=diffusers.__version__,
                slowai=slowai.__version__, device=str(device))
    if device.type == 'cuda':
        p = torch.cuda.get_device_properties(device)
        info.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(), capability=f'{p.major}.{p.minor}',
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32, tf32_cudnn=torch.backends.cudnn.allow_tf32,
                    cudnn_benchmark=torch.backends.cudnn.benchmark)
        print(f'GPU: {p.name}, {info["gpu_memory_gib"]} GiB, capability {info["capability"]}; CUDA {torch.version.cuda}, '
              f'cuDNN {info["cudnn"]}; TF32 matmul {info["tf32_matmul"]}, TF32 cuDNN {info["tf32_cudnn"]}, '
              f'cudnn.benchmark {info["cudnn_benchmark"]}')
    print(f'machine: {info["cpu"]}, {info["cores"]} cores, {info["torch_threads"]} torch threads; python {info["python"]}, '
          f'torch {info["torch"]}, diffusers {info["diffusers"]}, slowai {info["slowai"]}')
    settings = dict(bs=a.bs, lr=a.lr, subset=a.subset, runs=a.runs, sample_steps=a.sample_steps, sample_n=a.sample_n,
                    dpm_steps=a.dpm_steps, dpm_n=dpm_n)
    print('settings: ' + ', '.join(f'{k}={v}' for k, v in settings.items()))
    if AccelerateCB is None: print(f'slowai.accel not importable ({ACCEL_ERR}): skipping the accelerate run')
    if samplers is None: print(f'slowai.samplers not importable ({SAMPLERS_ERR}): skipping DPM-Solver++')

    t0 = time.perf_counter()
    full = get_dls(a.bs, subset=a.subset, seed=0)
    print(f'get_dls: {len(full.train.x):,} training and {len(full.valid.x):,} test images in {time.perf_counter() - t0:.1f}s')
    warm = DataLoaders(BatchLoader(full.train.x[:2 * a.bs], full.train.y[:2 * a.bs], a.bs, shuffle=True, seed=0),
                       BatchLoader(full.valid.x[:a.bs], full.valid.y[:a.bs], a.bs))

    rows, model_for_sampling = [], None
    for kind in [k.strip() for k in a.runs.split(',') if k.strip()]:
        if kind not in ('fp32', 'mixed', 'accelerate'): sys.exit(f'--runs: unknown run {kind!r}')
        if kind == 'accelerate' and AccelerateCB is None: continue
        row = dict(what=f'train 1 epoch, {kind}')
        if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
        try:
            fit_once(kind, warm, device, a.lr)
            res, ddpm = fit_once(kind, full, device, a.lr)
            n = len(full.train.x)
            row.update(seconds=res['train_pass_s'], images=n, images_per_s=n / res['train_pass_s'],
                       fit_seconds=res['fit_s'], train_loss=res['train_loss'], note=res['note'])
            if model_for_sampling is None: model_for_sampling = ddpm.model
        except Exception as e:
            row.update(error=f'{type(e).__name__}: {e}')
            traceback.print_exc()
        if device.type == 'cuda': row['max_memory_gib'] = torch.cuda.max_memory_allocated(device) / 2**30
        rows.append(row)
        save(a.json, info, settings, rows)
        print(f'  {row}', flush=True)

    model = model_for_sampling if model_for_sampling is not None else fashion_unet().to(device)
    model.to(device)
    ddpm = DDPM(n_steps=a.sample_steps)
    DDPM(n_steps=2).sample(model, (a.sample_n, 1, 32, 32), progress=False)  # warm-up
    x, s = timed(device, lambda: ddpm.sample(model, (a.sample_n, 1, 32, 32), progress=False))
    row = dict(what=f'DDPM.sample {a.sample_steps} steps, {a.sample_n} images', seconds=s, images=a.sample_n,
               images_per_s=a.sample_n / s, ms_per_step=1e3 * s / a.sample_steps,
               seconds_1000_steps=s * 1000 / a.sample_steps, finite=bool(torch.isfinite(x).all()))
    rows.append(row)
    save(a.json, info, settings, rows)
    print(f'  {row}', flush=True)

    if samplers is not None:
        try:
            ddpm = DDPM()  # the schedule the model was trained with
            samplers.sample(ddpm, model, (dpm_n, 1, 32, 32), sampler='dpm++', steps=2, progress=False)  # warm-up
            x, s = timed(device, lambda: samplers.sample(ddpm, model, (dpm_n, 1, 32, 32), sampler='dpm++',
                                                         steps=a.dpm_steps, progress=False))
            row = dict(what=f'DPM-Solver++ {a.dpm_steps} steps, {dpm_n} images', seconds=s, images=dpm_n,
                       images_per_s=dpm_n / s, ms_per_step=1e3 * s / a.dpm_steps, finite=bool(torch.isfinite(x).all()))
        except Exception as e:
            row = dict(what=f'DPM-Solver++ {a.dpm_steps} steps, {dpm_n} images', error=f'{type(e).__name__}: {e}')
            traceback.print_exc()
        rows.append(row)
        save(a.json, info, settings, rows)
        print(f'  {row}', flush=True)

    print()
    print(f'{"what":<44}{"seconds":>9}{"images/s":>10}{"ms/step":>9}  notes')
    for r in rows:
        if 'error' in r:
            print(f'{r["what"]:<44}{"failed":>9}{"":>10}{"":>9}  {r["error"]}')
            continue
        notes = []
        if 'fit_seconds' in r: notes.append(f'fit incl. validation {r["fit_seconds"]:.1f}s, loss {r["train_loss"]:.4f}')
        if r.get('note'): notes.append(r['note'])
        if 'seconds_1000_steps' in r and a.sample_steps != 1000: notes.append(f'1000 steps ~ {r["seconds_1000_steps"]:.1f}s')
        if 'max_memory_gib' in r: notes.append(f'max GPU memory {r["max_memory_gib"]:.2f} GiB')
        ms = f'{r["ms_per_step"]:.1f}' if 'ms_per_step' in r else ''
        print(f'{r["what"]:<44}{r["seconds"]:>9.2f}{r["images_per_s"]:>10.0f}{ms:>9}  {"; ".join(notes)}')
    if a.json: print(f'wrote {a.json}')
