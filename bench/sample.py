"""Milliseconds per sampling step of the DDPM U-Net: `DDPM.sample`, diffusers' `DDPMPipeline` and the bare model.

    python bench/sample.py [--bs 16 256] [--steps 16] [--warmup 2] [--rounds 3] [--sampler-steps 20] [--threads N]

For each batch size, in alternating rounds:
  ours      `DDPM().sample(model, sz)`, the 1000-step Algorithm 2 loop (model call, fresh noise, update);
  diffusers `DDPMPipeline(unet=model, scheduler=to_diffusers(ddpm))` with `num_inference_steps=1000`, i.e. the same
            1000 timesteps and the same betas, calling `DDPMScheduler.step` after every model call;
  bare      `model(x, t)` alone under `torch.inference_mode`, on a fixed input.
Neither sampler is run to the end: a forward pre-hook on the model notes the time of every model call and stops the
run once `warmup + steps + 1` calls have started, so a step's time is the time between the starts of consecutive
model calls after the warm-up (model forward plus everything the sampler does between calls). Each step of a
1000-step run does the same work, so the figure extrapolates to a whole run: seconds per 1,000 images =
ms/step x 1000 steps / batch size. The weights are those of a freshly made `fashion_unet()`; speed does not depend
on their values. A 1024x1024 float32 product is timed before every measurement (`GEMM checks`): on a shared machine
it drops when something else slows the cores, and such a round is not comparable with the others.

When `slowai.samplers` is importable, its `sample(ddpm, model, sz, sampler=..., steps=...)` is also timed once per
sampler at `--sampler-steps` model calls, whole runs (one warm-up run of 2 steps first), as ms per model call.
"""
import argparse
import os
from pathlib import Path
import sys
import platform
import statistics
import time

import numpy as np
import torch

import diffusers
import slowai
from slowai.ddpm import DDPM, fashion_unet, to_diffusers
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/machine.py, also under python -P
from machine import cpu_model, machine_line, gemm_gflops

try:
    from slowai import samplers
except ImportError:
    samplers = None


class Enough(Exception):
    "Raised from the hook to end a sampling run early."


class CallClock:
    "A forward pre-hook noting when each model call starts; raises `Enough` at the start of call `stop_at`."
    def __init__(self, model, stop_at: int):
        self.times, self.stop_at = [], stop_at
        self.handle = model.register_forward_pre_hook(self.hook)
    def hook(self, module, args):
        self.times.append(time.perf_counter())
        if len(self.times) == self.stop_at: raise Enough()
    def remove(self): self.handle.remove()


def per_step(run, model, warmup: int, steps: int) -> float:
    "Seconds per step of `run()`, between the starts of model calls `warmup + 1` and `warmup + steps + 1`."
    clock = CallClock(model, warmup + steps + 1)
    try: run()
    except Enough: pass
    finally: clock.remove()
    if len(clock.times) < warmup + steps + 1: raise RuntimeError(f'the sampler made only {len(clock.times)} model calls')
    return (clock.times[-1] - clock.times[warmup]) / steps



def bare(model, bs: int, warmup: int, steps: int) -> float:
    x, t = torch.randn(bs, 1, 32, 32), torch.full((bs,), 500, dtype=torch.long)
    model.eval()
    with torch.inference_mode():
        for _ in range(warmup): model(x, t)
        t0 = time.perf_counter()
        for _ in range(steps): model(x, t)
    return (time.perf_counter() - t0) / steps


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bs', type=int, nargs='+', default=[16, 256], help='batch sizes')
    ap.add_argument('--steps', type=int, default=16, help='timed steps per method and round')
    ap.add_argument('--warmup', type=int, default=2, help='steps before the clock starts')
    ap.add_argument('--rounds', type=int, default=3, help='rounds of (ours, diffusers, bare); the median is reported')
    ap.add_argument('--sampler-steps', type=int, default=20, help='model calls of each slowai.samplers run; 0 skips them')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch decides)')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if a.steps < 1 or a.warmup < 1: ap.error('--steps and --warmup must be at least 1')

    print(machine_line())
    have = f'slowai.samplers {", ".join(samplers.SAMPLERS)}' if samplers else 'slowai.samplers not importable'
    print(f'settings: batch sizes {a.bs}, {a.rounds} rounds x ({a.warmup} warm-up + {a.steps} timed steps) per method, '
          f'1000-step linear-beta DDPM; {have}, {a.sampler_steps} steps each')

    print(f'GEMM check (1024x1024 float32 torch.mm): {gemm_gflops():.0f} GFLOP/s')
    torch.manual_seed(0)
    model = fashion_unet().eval()
    ddpm = DDPM()
    pipe = diffusers.DDPMPipeline(unet=model, scheduler=to_diffusers(ddpm))
    pipe.set_progress_bar_config(disable=True)

    methods = {
        'ours': lambda bs: per_step(lambda: ddpm.sample(model, (bs, 1, 32, 32), progress=False), model, a.warmup, a.steps),
        'diffusers': lambda bs: per_step(lambda: pipe(batch_size=bs, num_inference_steps=ddpm.n_steps, output_type='np'),
                                         model, a.warmup, a.steps),
        'bare': lambda bs: bare(model, bs, a.warmup, a.steps),
    }
    table = []
    for bs in a.bs:
        res = {k: [] for k in methods}
        for r in range(a.rounds):
            checks = []
            for k, f in methods.items():
                checks.append(gemm_gflops())
                res[k].append(f(bs))
            print(f'  bs {bs:4d} round {r + 1}: ' + '  '.join(f'{k} {1e3 * v[-1]:.1f} ms' for k, v in res.items())
                  + f'   (GEMM checks {" ".join(f"{c:.0f}" for c in checks)} GFLOP/s)', flush=True)
        med = {k: statistics.median(v) for k, v in res.items()}
        row = dict(bs=bs, **{k: 1e3 * v for k, v in med.items()})
        if samplers and a.sampler_steps > 0:
            for name in samplers.SAMPLERS:
                run = lambda n: samplers.sample(ddpm, model, (bs, 1, 32, 32), sampler=name, steps=n, progress=False)
                run(2)
                t0 = time.perf_counter()
                run(a.sampler_steps)
                row[f'samplers.{name}'] = 1e3 * (time.perf_counter() - t0) / a.sampler_steps
        table.append(row)

    print()
    print(f'{"bs":>5}{"ours ms/step":>14}{"diffusers":>11}{"bare fwd":>10}{"ours over bare":>16}{"diffusers/ours":>16}'
          f'{"s per 1k images (1000 steps): ours":>36}{"diffusers":>11}')
    for row in table:
        o, d, b, bs = row['ours'], row['diffusers'], row['bare'], row['bs']
        print(f'{bs:>5}{o:>14.1f}{d:>11.1f}{b:>10.1f}{100 * (o - b) / b:>15.1f}%{d / o:>16.2f}'
              f'{o * 1000 / bs:>36.0f}{d * 1000 / bs:>11.0f}')
    extra = [k for k in table[0] if k.startswith('samplers.')]
    if extra:
        print()
        print(f'slowai.samplers.sample, whole runs of {a.sampler_steps} model calls (ms per call; s per 1,000 images at '
              f'{a.sampler_steps} calls):')
        for row in table:
            bs = row['bs']
            print(f'  bs {bs:4d}: ' + '   '.join(f'{k.split(".", 1)[1]} {row[k]:.1f} ms ({row[k] * a.sampler_steps / bs:.1f} s)'
                                           for k in extra))
    print(f'load average now {" ".join(f"{x:.2f}" for x in os.getloadavg())}; GEMM check {gemm_gflops():.0f} GFLOP/s')
