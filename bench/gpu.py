"""The GPU results in one script: the seed's mixed-precision recipe in float16, bfloat16 and Accelerate float16, a
fast path, a profile of one step, and sampling times (on the CPU, every path runs at a tiny size to test it).

    python bench/gpu.py [--json results.json] [--epochs 8] [--bs 512] [--lr 1e-2] [--subset N] [--runs ...]
                        [--compile-mode reduce-overhead] [--profile] [--sample-steps 1000] [--device cuda]
    python bench/gpu.py --device cpu --subset 1024 --epochs 2 --sample-steps 5 --compile-mode none --profile  # CPU check

Each training run starts from `init_ddpm(fashion_unet())` with seed 0 and follows the recipe that the seed trained
with: one-cycle to lr 1e-2 over `--epochs` epochs, Adam eps 1e-5, batch 512, EMA 0.999. The `--runs`:
  fp32        plain float32, `slowai.ddpm.train`;
  mixed       `MixedPrecision()`: its automatic choice (bfloat16 on GPUs that have it, else float16 + GradScaler);
  fp16, bf16  `MixedPrecision(torch.float16 / torch.bfloat16)`, forced;
  accelerate  `AccelerateCB('fp16')` on CUDA (bf16 on a CPU);
  fast-bf16, fast-fp16  the same recipe without the Learner: the whole training set resident on the device, the
              U-Net in channels_last and `torch.compile`d (`--compile-mode`, `none` to skip), fused Adam, the noise
              drawn on the device, one host sync per epoch.
Each run reports the eval loss (10,000 test images) and the seconds of every epoch; a short warm-up fit precedes
each Learner run and the fast path's first epoch includes compilation (reported apart). The FLOPs of one training
image (forward + backward, counted by `torch.utils.flop_counter`) turn seconds per epoch into a share of the GPU's
dense bfloat16 peak where the GPU is known. `--profile` prints the top 15 operations of one bfloat16 training step
by device time (CPU time on a CPU). Then DDPM sampling of `--sample-n` images over `--sample-steps` steps and
DPM-Solver++ with `--dpm-steps` steps. Prints a table and writes everything to `--json` as it goes.
"""
import argparse
import contextlib
import io
import json
import math
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
from slowai.config import ConfigError, TrainConfig, config_options, flag_of
from slowai.ddpm import DDPM, NoiseSchedule, fashion_unet, train
from slowai.init import init_ddpm
from slowai.mixed import MixedPrecision
from slowai.prelude import BatchLoader, Callback, DataLoaders, TrainingDiverged, get_dls
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


LEARNER_RUNS = ('fp32', 'mixed', 'fp16', 'bf16', 'accelerate')
FAST_RUNS = ('fast-bf16', 'fast-fp16')
# dense (no sparsity) bfloat16 tensor-core peaks in TFLOP/s, from the vendors' data sheets
BF16_PEAK_TFLOPS = {'H100 SXM': 989, 'H100 80GB HBM3': 989, 'H100 NVL': 835, 'H100 PCIe': 756, 'H200': 989, 'A100': 312,
                    'L40S': 362, 'L4': 121, 'A10G': 70, 'RTX 4090': 165}


def make_cbs(kind: str, device: torch.device) -> list:
    if kind == 'fp32': return []
    if kind == 'mixed': return [MixedPrecision()]
    if kind in ('fp16', 'bf16'): return [MixedPrecision(getattr(torch, {'fp16': 'float16', 'bf16': 'bfloat16'}[kind]), force=True)]
    mp = 'fp16' if device.type == 'cuda' else 'bf16'
    try:  # Accelerate keeps one configuration per process: start from a clean one for every run
        from accelerate.state import AcceleratorState
        AcceleratorState._reset_state(reset_partial_state=True)
    except Exception: pass
    return [AccelerateCB(mp, cpu=device.type != 'cuda')]


def fit_once(kind: str, dls, device: torch.device, lr: float, epochs: int = 1):
    torch.manual_seed(0)
    model = init_ddpm(fashion_unet())
    timer = TrainPassTimer(device)
    extra = make_cbs(kind, device)
    sync(device)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as log:  # MetricsCB's table
        try:
            ddpm = train(model, lr=lr, n_epochs=epochs, dls=dls, device=device, progress=False, extra_cbs=extra + [timer],
                         opt_func=partial(torch.optim.Adam, eps=1e-5))
            err = None
        except TrainingDiverged as e: ddpm, err = None, f'TrainingDiverged: {str(e)[:200]}'
    sync(device)
    fit = time.perf_counter() - t0
    hist = ddpm.learn.history if ddpm is not None else []
    note = ''
    if kind in ('mixed', 'fp16', 'bf16'): note = extra[0].plan.reason + (f', {sum(extra[0].skipped)} steps skipped' if extra[0].scaler else '')
    if kind == 'accelerate': note = f'mixed_precision={extra[0].accelerator.mixed_precision}'
    return dict(epoch_s=timer.times, fit_s=fit, batches=timer.batches, note=note, error=err, log=log.getvalue(),
                train_loss=[r['loss'] for r in hist if r['train']], eval_loss=[r['loss'] for r in hist if not r['train']]), ddpm


def fast_fit(kind: str, data, device: torch.device, lr: float, epochs: int, bs: int, compile_mode: str, ema: float = 0.999):
    "The recipe without the Learner: data on the device, channels_last, compiled U-Net, fused Adam; eval loss per epoch."
    dtype = torch.bfloat16 if kind == 'fast-bf16' else torch.float16
    torch.manual_seed(0)
    model = init_ddpm(fashion_unet()).to(device).to(memory_format=torch.channels_last)
    ema_model = [p.detach().clone() for p in model.parameters()]
    net = model if compile_mode == 'none' else torch.compile(model, mode=compile_mode)
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-5, fused=device.type == 'cuda')
    x = data.train.x.to(device).contiguous(memory_format=torch.channels_last)
    xv = data.valid.x.to(device).contiguous(memory_format=torch.channels_last)
    per_epoch = len(x) // bs  # full batches only: one shape for the compiled graph
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * per_epoch)
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 and device.type == 'cuda' else None
    ddpm = NoiseSchedule().to(device)
    gen = torch.Generator(device).manual_seed(0)
    def loss_of(xb, train: bool):
        t = torch.randint(0, ddpm.n_steps, (len(xb),), device=device, generator=gen)
        eps = torch.randn(xb.shape, device=device, generator=gen)
        with torch.autocast(device.type, dtype=dtype):
            pred = net(ddpm.add_noise(xb, eps, t), t).sample
        return torch.nn.functional.mse_loss(pred.float(), eps)
    times, eval_losses, train_losses, skipped = [], [], [], 0
    for epoch in range(epochs):
        sync(device); t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(x), device=device, generator=gen)
        total = torch.zeros((), device=device)
        for i in range(per_epoch):
            loss = loss_of(x[order[i * bs:(i + 1) * bs]], True)
            opt.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward(); opt.step()
            else:
                scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
            sched.step()
            d = min(ema, (1 + epoch * per_epoch + i) / (10 + epoch * per_epoch + i))
            torch._foreach_lerp_(ema_model, [p.detach() for p in model.parameters()], 1 - d)
            total += loss.detach()
        sync(device); times.append(time.perf_counter() - t0)
        train_losses.append((total / per_epoch).item())
        model.eval()
        with torch.no_grad():
            ev = torch.stack([loss_of(xv[i:i + 2 * bs], False) * len(xv[i:i + 2 * bs]) for i in range(0, len(xv), 2 * bs)]).sum() / len(xv)
        eval_losses.append(ev.item())
        if not math.isfinite(train_losses[-1]): break
    note = f'{dtype}, compile={compile_mode}, channels_last, fused Adam={device.type == "cuda"}, {per_epoch} full batches/epoch'
    return dict(epoch_s=times, fit_s=sum(times), batches=per_epoch, note=note, error=None, log='',
                train_loss=train_losses, eval_loss=eval_losses)


def train_flops_per_image(device: torch.device, bs: int = 8) -> float | None:
    "Forward + backward FLOPs of one training image, counted on a small batch by torch's FLOP counter."
    try:
        from torch.utils.flop_counter import FlopCounterMode
        model = fashion_unet().to(device)
        x, t = torch.randn(bs, 1, 32, 32, device=device), torch.randint(0, 1000, (bs,), device=device)
        with FlopCounterMode(display=False) as fc:
            model(x, t).sample.square().mean().backward()
        return fc.get_total_flops() / bs
    except Exception as e:
        print(f'FLOP count failed: {type(e).__name__}: {e}')
        return None


def bf16_peak(name: str) -> float | None:
    "The dense bfloat16 peak (FLOP/s) of a GPU whose name contains one of BF16_PEAK_TFLOPS' keys, else None."
    for key in sorted(BF16_PEAK_TFLOPS, key=len, reverse=True):
        if key in name: return BF16_PEAK_TFLOPS[key] * 1e12
    return None


def profile_step(dls, device: torch.device, lr: float, rows: int = 15) -> str:
    "The top `rows` operations of one bfloat16 training step (after 3 warm-up steps), by device time."
    from torch.profiler import ProfilerActivity, profile
    torch.manual_seed(0)
    model = init_ddpm(fashion_unet()).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-5)
    ddpm = NoiseSchedule().to(device)
    xb = dls.train.x[:dls.train.bs].to(device)
    def step():
        (xt, t), eps = ddpm.noisify(xb)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = torch.nn.functional.mse_loss(model(xt, t).sample.float(), eps)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    for _ in range(3): step()
    sync(device)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda' else [])
    with profile(activities=acts) as prof:
        step(); sync(device)
    key = 'self_cuda_time_total' if device.type == 'cuda' else 'self_cpu_time_total'
    return prof.key_averages().table(sort_by=key, row_limit=rows)


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
    ap.add_argument('--runs', default='fp16,bf16,accelerate,fast-bf16', help='comma-separated training runs: ' + ', '.join(LEARNER_RUNS + FAST_RUNS))
    # the training settings, as slowai declares them, at the seed's recipe: batch 512, peak lr 0.01, 8 epochs
    config_options(ap, TrainConfig, only=('bs', 'lr', 'subset', 'epochs'), defaults=dict(bs=512, lr=1e-2, epochs=8))
    ap.add_argument('--compile-mode', default='reduce-overhead', help='torch.compile mode of the fast path (none: no compile)')
    ap.add_argument('--profile', action='store_true', help='print the top 15 operations of one bfloat16 training step')
    ap.add_argument('--sample-steps', type=int, default=1000, help='DDPM sampling steps (1000: the full schedule)')
    ap.add_argument('--sample-n', type=int, default=256, help='images sampled with DDPM.sample')
    ap.add_argument('--dpm-steps', type=int, default=20, help='DPM-Solver++ steps')
    ap.add_argument('--dpm-n', type=int, default=None, help='images sampled with DPM-Solver++ (default 1000 on CUDA, 64 on CPU)')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    ap.add_argument('--cudnn-benchmark', action='store_true', help='set torch.backends.cudnn.benchmark')
    ap.add_argument('--json', default=None, help='write the results here as JSON')
    a = ap.parse_args()
    try: TrainConfig(bs=a.bs, lr=a.lr, subset=a.subset, epochs=a.epochs)
    except ConfigError as e: ap.error(f'{flag_of(e.field)} {e.value}: {e.reason}')
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
    settings = dict(bs=a.bs, lr=a.lr, epochs=a.epochs, subset=a.subset, runs=a.runs, compile_mode=a.compile_mode,
                    sample_steps=a.sample_steps, sample_n=a.sample_n, dpm_steps=a.dpm_steps, dpm_n=dpm_n)
    print('settings: ' + ', '.join(f'{k}={v}' for k, v in settings.items()))
    if AccelerateCB is None: print(f'slowai.accel not importable ({ACCEL_ERR}): skipping the accelerate run')
    if samplers is None: print(f'slowai.samplers not importable ({SAMPLERS_ERR}): skipping DPM-Solver++')

    t0 = time.perf_counter()
    full = get_dls(a.bs, subset=a.subset, seed=0)
    print(f'get_dls: {len(full.train.x):,} training and {len(full.valid.x):,} test images in {time.perf_counter() - t0:.1f}s')
    warm = DataLoaders(BatchLoader(full.train.x[:2 * a.bs], full.train.y[:2 * a.bs], a.bs, shuffle=True, seed=0),
                       BatchLoader(full.valid.x[:a.bs], full.valid.y[:a.bs], a.bs))

    flops = train_flops_per_image(device)
    peak = bf16_peak(info.get('gpu', '')) if device.type == 'cuda' else None
    info.update(train_flops_per_image=flops, bf16_peak_flops=peak)
    if flops: print(f'one training image: {flops / 1e9:.2f} GFLOP forward + backward; an epoch of {len(full.train.x):,}: '
                    f'{flops * len(full.train.x) / 1e12:.1f} TFLOP' + (f'; bf16 peak {peak / 1e12:.0f} TFLOP/s' if peak else ''))
    rows, model_for_sampling = [], None
    for kind in [k.strip() for k in a.runs.split(',') if k.strip()]:
        if kind not in LEARNER_RUNS + FAST_RUNS: sys.exit(f'--runs: unknown run {kind!r}; expected some of {", ".join(LEARNER_RUNS + FAST_RUNS)}')
        if kind == 'accelerate' and AccelerateCB is None: continue
        row = dict(what=f'train {a.epochs} epochs, {kind}')
        if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
        try:
            if kind in FAST_RUNS: res = fast_fit(kind, full, device, a.lr, a.epochs, a.bs, a.compile_mode)
            else:
                fit_once(kind, warm, device, a.lr)  # warm-up: kernel selection, allocator
                res, ddpm = fit_once(kind, full, device, a.lr, a.epochs)
                if model_for_sampling is None and ddpm is not None: model_for_sampling = ddpm.model
            n = len(full.train.x)
            steady = res['epoch_s'][1:] or res['epoch_s']  # the fast path's first epoch includes compilation
            sec = sorted(steady)[len(steady) // 2] if steady else float('nan')
            row.update(seconds=sec, images=n, images_per_s=n / sec, epoch_s=res['epoch_s'], fit_seconds=res['fit_s'],
                       train_loss=res['train_loss'], eval_loss=res['eval_loss'], note=res['note'], error=res['error'])
            if flops and peak: row['bf16_peak_share'] = flops * n / sec / peak
        except Exception as e:
            row.update(error=f'{type(e).__name__}: {e}')
            traceback.print_exc()
        if device.type == 'cuda': row['max_memory_gib'] = torch.cuda.max_memory_allocated(device) / 2**30
        rows.append(row)
        save(a.json, info, settings, rows)
        print(f'  {kind}: eval loss per epoch {[round(l, 4) for l in row.get("eval_loss", [])]}, seconds per epoch '
              f'{[round(t, 1) for t in row.get("epoch_s", [])]}' + (f', ERROR {row["error"]}' if row.get('error') else ''), flush=True)

    if a.profile:
        table = profile_step(full, device, a.lr)
        info['profile_top15'] = table
        save(a.json, info, settings, rows)
        print(f'one bfloat16 training step, top 15 operations by {"CUDA" if device.type == "cuda" else "CPU"} time:')
        print(table)

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
    print(f'{"what":<44}{"seconds":>9}{"images/s":>10}{"ms/step":>9}  notes  (training rows: median seconds per epoch)')
    for r in rows:
        if r.get('error') and 'seconds' not in r:
            print(f'{r["what"]:<44}{"failed":>9}{"":>10}{"":>9}  {r["error"]}')
            continue
        notes = []
        if r.get('eval_loss'): notes.append(f'eval loss {r["eval_loss"][-1]:.4f} after {len(r["eval_loss"])} epochs (target <= 0.017)')
        if r.get('error'): notes.append(r['error'])
        if 'bf16_peak_share' in r: notes.append(f'{r["bf16_peak_share"]:.2%} of bf16 peak')
        if r.get('note'): notes.append(r['note'])
        if 'seconds_1000_steps' in r and a.sample_steps != 1000: notes.append(f'1000 steps ~ {r["seconds_1000_steps"]:.1f}s')
        if 'max_memory_gib' in r: notes.append(f'max GPU memory {r["max_memory_gib"]:.2f} GiB')
        ms = f'{r["ms_per_step"]:.1f}' if 'ms_per_step' in r else ''
        print(f'{r["what"]:<44}{r["seconds"]:>9.2f}{r["images_per_s"]:>10.0f}{ms:>9}  {"; ".join(notes)}')
    if a.json: print(f'wrote {a.json}')
