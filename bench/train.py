"""Training throughput of the DDPM U-Net: slowai's training path against a typical hand-written loop and the bare model.

    python bench/train.py [--bs 128] [--batches 20] [--warmup 2] [--rounds 3] [--workers 2] [--threads N] [--head-dims 8,32]

In one process, alternating rounds of
  (a) slowai: `get_dls` + `Learner` with the callbacks `slowai.ddpm.train` uses (DeviceCB, DDPM, MetricsCB,
      OneCycle, DivergenceCB, EMA), by calling `train` itself, stopped after `warmup + batches` batches;
  (b) the loop a user would otherwise write: a torch `Dataset` that decodes every image separately from the raw
      uint8 array (PIL bicubic resize 28->32, to a tensor, scale to [-0.5, 0.5]), a `DataLoader` with default
      collation and `--workers` worker processes, `diffusers.DDPMScheduler.add_noise` at random timesteps, then
      forward, MSE, backward, Adam step, zero_grad;
  (c) the model alone: forward, MSE, backward, Adam step and zero_grad on one noisy batch already in memory.
Every round starts from the same initial weights. images/s counts the `batches` batches after the `warmup` ones;
the median over rounds is reported. The fp32 GEMM peak is measured in the same process (large `torch.mm`, before and
after the rounds), and the training FLOP rate (3x the forward FLOPs counted by `FlopCounterMode`) is shown as a
share of it. `cpu/wall` is the main process's CPU time over wall time: near the thread count on an idle machine,
lower when other programs take cores (worker processes are not included). `GEMM check` is a 1024x1024 float32
product timed just before each measurement: on a shared machine it drops when something else slows the cores
(other virtual machines on the same host do not show in the load average or in cpu/wall), and a round with a low
check is not comparable with the others.
"""
import argparse
import contextlib
import copy
import io
import os
from pathlib import Path
import sys
import platform
import resource
import statistics
import time
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

import diffusers
import slowai
from slowai.ddpm import DDPM, NoiseSchedule, fashion_unet, train
from slowai.prelude import Callback, CancelFitException, get_dls, load_fashion_mnist, to_model_images
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/machine.py, also under python -P
from machine import cpu_model, machine_line, gemm_gflops



def forward_flops(model, n: int = 2) -> float:
    "Forward FLOPs per image, with attention counted (the math SDPA backend shows its matrix products to the counter)."
    x, t = torch.randn(n, 1, 32, 32), torch.randint(0, 1000, (n,))
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc: model(x, t)
    return fc.get_total_flops() / n


class Meter:
    "Wall and CPU time between the end of the warm-up batches and the end of the last measured batch."
    def __init__(self, warmup: int, batches: int): self.warmup, self.batches, self.done = warmup, batches, 0
    def tick(self) -> bool:
        "Call after each batch; False when enough batches were seen."
        self.done += 1
        if self.done == self.warmup: self.t0, self.c0 = time.perf_counter(), time.process_time()
        if self.done == self.warmup + self.batches:
            self.wall, self.cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
            return False
        return True


class StopAfter(Callback):
    "Time the training batches of a `Learner` and end the fit after `warmup + batches` of them."
    order = 100
    def __init__(self, meter: Meter): self.meter = meter
    def after_batch(self, learn):
        if learn.training and not self.meter.tick(): raise CancelFitException()


def run_slowai(model, dls, meter: Meter, lr: float, fused: bool = False):
    opt_func = partial(torch.optim.Adam, fused=True) if fused else torch.optim.Adam
    with contextlib.redirect_stdout(io.StringIO()):  # MetricsCB's header row
        train(model, lr=lr, n_epochs=1, dls=dls, ddpm=DDPM(), seed=0, device='cpu', progress=False,
              extra_cbs=[StopAfter(meter)], opt_func=opt_func)


class PerItem(torch.utils.data.Dataset):
    "Decode each image on its own: PIL bicubic resize to 32x32, to a float tensor in [-0.5, 0.5]."
    def __init__(self, images: np.ndarray, labels: np.ndarray): self.images, self.labels = images, labels
    def __len__(self): return len(self.images)
    def __getitem__(self, i):
        im = Image.fromarray(self.images[i]).resize((32, 32), Image.BICUBIC)
        x = torch.from_numpy(np.asarray(im, dtype=np.float32)).div_(255).sub_(0.5)
        return x[None], int(self.labels[i])


def run_baseline(model, ds, meter: Meter, bs: int, workers: int, lr: float):
    sched = diffusers.DDPMScheduler(num_train_timesteps=1000)
    dl = torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, num_workers=workers)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for x0, _ in dl:
        noise = torch.randn_like(x0)
        t = torch.randint(0, sched.config.num_train_timesteps, (len(x0),))
        xt = sched.add_noise(x0, noise, t)
        loss = F.mse_loss(model(xt, t).sample, noise)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if not meter.tick(): break
    del dl


def run_model_only(model, batch, meter: Meter, lr: float):
    xt, t, eps = batch
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    while True:
        loss = F.mse_loss(model(xt, t).sample, eps)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if not meter.tick(): break


NAMES = {'a': 'slowai (get_dls + Learner + DDPM)', 'b': 'per-item Dataset + DataLoader',
         'c': 'model only (batch in memory)'}

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bs', type=int, default=128, help='batch size')
    ap.add_argument('--batches', type=int, default=20, help='measured batches per path and round')
    ap.add_argument('--warmup', type=int, default=2, help='batches run before the clock starts, per path and round')
    ap.add_argument('--rounds', type=int, default=3, help='rounds of (a), (b), (c)')
    ap.add_argument('--workers', type=int, default=2, help='DataLoader worker processes of the baseline (b)')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch decides)')
    ap.add_argument('--lr', type=float, default=1e-3, help='learning rate of every path (speed does not depend on it)')
    ap.add_argument('--gemm', type=int, default=2048, help='side of the square float32 matrices timed for the peak')
    ap.add_argument('--only', default='abc', help='which paths to run, e.g. ac')
    ap.add_argument('--fused-adam', action='store_true', help='(a) only: Adam(fused=True), a proposed change')
    ap.add_argument('--head-dims', default='8',
                    help="comma-separated attention head sizes, e.g. 8,32: every path runs with each, alternating in "
                         "every round (fashion_unet's head_dim; 8 is the default)")
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if a.warmup < 1 or a.batches < 1: ap.error('--warmup and --batches must be at least 1')

    print(machine_line())
    print(f'settings: bs={a.bs}, {a.rounds} rounds x ({a.warmup} warm-up + {a.batches} measured batches) per path, '
          f'baseline workers={a.workers}, lr={a.lr}, GEMM {a.gemm}x{a.gemm} float32, '
          f'cuda={torch.cuda.is_available()} (this benchmark runs on the CPU)'
          + (', (a) with Adam(fused=True)' if a.fused_adam else '')
          + f', attention head dims {a.head_dims}')

    try: dims = [int(d) for d in a.head_dims.split(',')]
    except ValueError: ap.error(f'--head-dims {a.head_dims!r}: expected comma-separated integers such as 8,32')
    bases = {}
    for d in dims:
        torch.manual_seed(0)
        try: bases[d] = fashion_unet(head_dim=d)
        except ValueError as e: ap.error(f'--head-dims: {e}')
    base = bases[dims[0]]
    n_params = sum(p.numel() for p in base.parameters())
    flops = forward_flops(base)
    print(f'model: fashion_unet(), {n_params / 1e6:.2f}M parameters, forward {flops / 1e6:.1f} MFLOP per image '
          f'(training ~3x = {3 * flops / 1e9:.2f} GFLOP per image)')

    t0 = time.perf_counter()
    dls = get_dls(a.bs, seed=0)
    t_dls = time.perf_counter() - t0
    t0 = time.perf_counter()
    x_raw, y_raw = load_fashion_mnist('train')
    ds = PerItem(x_raw.numpy(), y_raw.numpy())
    t_ds = time.perf_counter() - t0
    print(f'setup (once, not in the rates): get_dls (both splits, resized) {t_dls:.1f}s; baseline raw arrays {t_ds:.1f}s')
    x0 = to_model_images(x_raw[:a.bs])
    gen = torch.Generator().manual_seed(0)
    t_mem = torch.randint(0, 1000, (a.bs,), generator=gen)
    eps = torch.randn(x0.shape, generator=gen)
    batch = (NoiseSchedule().add_noise(x0, eps, t_mem), t_mem, eps)

    peak0 = gemm_gflops(a.gemm, 5)
    keys = [(k, d) for k in a.only for d in dims]
    results = {key: [] for key in keys}
    t_start = time.perf_counter()
    for r in range(a.rounds):
        for key in keys:
            k, d = key
            model = copy.deepcopy(bases[d])
            check = gemm_gflops(1024, 3)
            meter = Meter(a.warmup, a.batches)
            if k == 'a': run_slowai(model, dls, meter, a.lr, a.fused_adam)
            elif k == 'b': run_baseline(model, ds, meter, a.bs, a.workers, a.lr)
            else: run_model_only(model, batch, meter, a.lr)
            ips = a.bs * a.batches / meter.wall
            results[key].append((ips, meter.cpu / meter.wall))
            print(f'  round {r + 1} ({k}) {NAMES[k]:<34} head {d:>3} {ips:7.1f} images/s  {1e3 * meter.wall / a.batches:7.0f} ms/batch  '
                  f'cpu/wall {meter.cpu / meter.wall:.2f}  GEMM check {check:.0f} GFLOP/s', flush=True)
    t_rounds = time.perf_counter() - t_start
    peak1 = gemm_gflops(a.gemm, 5)
    peak = max(peak0, peak1)

    med = {k: statistics.median(v[0] for v in results[k]) for k in results}
    print()
    print(f'fp32 GEMM peak ({a.gemm}x{a.gemm} torch.mm): {peak0:.1f} GFLOP/s before, {peak1:.1f} after; peak = {peak:.1f}')
    print(f'{"path":<40}{"head":>5}{"images/s":>10}{"min":>9}{"max":>9}{"ms/batch":>10}{"GFLOP/s":>9}{"% peak":>8}')
    for key in results:
        k, d = key
        vals = [v[0] for v in results[key]]
        rate = 3 * flops * med[key] / 1e9
        print(f'({k}) {NAMES[k]:<36}{d:>5}{med[key]:>10.1f}{min(vals):>9.1f}{max(vals):>9.1f}{1e3 * a.bs / med[key]:>10.0f}'
              f'{rate:>9.1f}{100 * rate / peak:>7.1f}%')
    for d in dims:
        at = f' at head {d}' if len(dims) > 1 else ''
        if 'a' in a.only and 'b' in a.only: print(f'(a)/(b){at} = {med["a", d] / med["b", d]:.2f}   (target >= 1.3)')
        if 'a' in a.only and 'c' in a.only: print(f'(a)/(c){at} = {med["a", d] / med["c", d]:.2f}   (target >= 0.95)')
    for k in a.only:
        for d in dims[1:]:
            print(f'({k}) head {d} / head {dims[0]} = {med[k, d] / med[k, dims[0]]:.2f} in images/s')
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f'peak RSS: {own:.0f} MiB (this process), {kids:.0f} MiB (largest finished worker process)')
    print(f'rounds took {t_rounds:.0f}s; load average now {" ".join(f"{x:.2f}" for x in os.getloadavg())}')
