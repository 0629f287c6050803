"""Where the CPU time of a DDPM training step goes: torch.profiler on a few batches of slowai's training path.

    python bench/step_profile.py [--bs 128] [--steps 3] [--warmup 2] [--top 15] [--threads N] [--model-only]

Runs `slowai.ddpm.train(fashion_unet(), ...)` (get_dls, Learner, DeviceCB, DDPM, MetricsCB, OneCycle, DivergenceCB,
EMA) and profiles `--steps` training batches after `--warmup` unprofiled ones (`--model-only`: forward, MSE, backward
and Adam step on one batch held in memory instead). Prints the top operators by self CPU time, then every
operator's self time grouped into categories. An operator counts towards the category of the nearest enclosing
operator that names one (so the copies inside `aten::group_norm` count as GroupNorm, and backward kernels as their
forward's category through the autograd node that runs them); everything inside `Optimizer.step` or
`Optimizer.zero_grad` counts as optimizer.
"""
import sys
from pathlib import Path

import argparse
import contextlib
import io
import os
import platform
import re
import time
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import diffusers
import slowai
from slowai.ddpm import DDPM, fashion_unet, train
from slowai.prelude import Callback, CancelFitException, get_dls
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/machine.py, also under python -P
from machine import cpu_model, machine_line, gemm_gflops


# first match wins; tested against the lower-cased names of an operator and then of its enclosing operators
CATEGORIES = [
    ('optimizer', r'^optimizer\.(step|zero_grad)'),
    ('attention/softmax', r'scaled_dot_product|softmax|attention|baddbmm'),
    ('conv', r'conv'),
    ('GEMM/linear', r'aten::(mm|addmm|bmm|matmul|linear)$|^(mm|addmm|bmm)backward'),
    ('GroupNorm', r'group_?norm'),
    ('SiLU/activation', r'silu|gelu|relu|sigmoid|mish|tanh'),
    ('upsampling/interpolate', r'upsample|interpolate'),
]
COPIES = r'copy|cat|clone|contiguous|aten::to$|_to_copy|index|stack|permute|transpose|reshape|view|expand|empty'
ORDER = [c for c, _ in CATEGORIES[1:]] + ['copies/cat', 'optimizer', 'other']


def category(ev) -> str:
    chain, e = [], ev
    while e is not None:
        chain.append(e.name.lower())
        e = e.cpu_parent
    for name in reversed(chain):  # an optimizer scope encloses everything it runs
        if re.search(CATEGORIES[0][1], name): return 'optimizer'
    for name in chain:
        for cat, pat in CATEGORIES[1:]:
            if re.search(pat, name): return cat
    return 'copies/cat' if re.search(COPIES, chain[0]) else 'other'



class ProfileSteps(Callback):
    "Profile training batches `warmup` .. `warmup + steps - 1`, then end the fit."
    order = 100
    def __init__(self, warmup: int, steps: int): self.warmup, self.steps, self.prof = warmup, steps, None
    def before_batch(self, learn):
        if learn.training and learn.iter == self.warmup:
            self.prof = profile(activities=[ProfilerActivity.CPU])
            self.prof.__enter__()
            self.t0 = time.perf_counter()
    def after_batch(self, learn):
        if learn.training and learn.iter == self.warmup + self.steps - 1:
            self.wall = time.perf_counter() - self.t0
            self.prof.__exit__(None, None, None)
            raise CancelFitException()


def profile_slowai(bs: int, warmup: int, steps: int):
    torch.manual_seed(0)
    dls = get_dls(bs, seed=0, subset=bs * (warmup + steps))
    cb = ProfileSteps(warmup, steps)
    with contextlib.redirect_stdout(io.StringIO()):  # MetricsCB's header row
        train(fashion_unet(), n_epochs=1, dls=dls, ddpm=DDPM(), device='cpu', progress=False, extra_cbs=[cb])
    return cb.prof, cb.wall


def profile_model(bs: int, warmup: int, steps: int):
    torch.manual_seed(0)
    model = fashion_unet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, t, eps = torch.randn(bs, 1, 32, 32), torch.randint(0, 1000, (bs,)), torch.randn(bs, 1, 32, 32)
    def step():
        F.mse_loss(model(x, t).sample, eps).backward()
        opt.step()
        opt.zero_grad()
    for _ in range(warmup): step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for _ in range(steps): step()
        wall = time.perf_counter() - t0
    return prof, wall


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bs', type=int, default=128, help='batch size')
    ap.add_argument('--steps', type=int, default=3, help='profiled training batches')
    ap.add_argument('--warmup', type=int, default=2, help='batches before profiling starts')
    ap.add_argument('--top', type=int, default=15, help='operators to list')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch decides)')
    ap.add_argument('--model-only', action='store_true', help='profile the bare model step instead of slowai.ddpm.train')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if a.steps < 1 or a.warmup < 1: ap.error('--steps and --warmup must be at least 1')

    print(machine_line())
    what = 'model step on a batch in memory' if a.model_only else 'slowai.ddpm.train (Learner with its callbacks)'
    print(f'settings: fashion_unet(), bs={a.bs}, {a.warmup} warm-up + {a.steps} profiled batches of {what}')

    check0 = gemm_gflops()
    prof, wall = (profile_model if a.model_only else profile_slowai)(a.bs, a.warmup, a.steps)
    check1 = gemm_gflops()
    events = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CPU]
    total = sum(e.self_cpu_time_total for e in events)
    print(f'profiled {a.steps} batches: {wall:.2f}s wall ({1e3 * wall / a.steps:.0f} ms/batch with the profiler on), '
          f'{total / 1e6:.2f}s self CPU time recorded on the main thread; GEMM check (1024x1024 float32) '
          f'{check0:.0f} GFLOP/s before, {check1:.0f} after (a low value means the cores were slowed by other work)')

    print(f'\ntop {a.top} operators by self CPU time:')
    print(f'{"operator":<58}{"self ms":>10}{"%":>7}{"calls":>8}   category')
    cats_of = {}
    for e in events: cats_of.setdefault(e.name, set()).add(category(e))
    for k in sorted(prof.key_averages(), key=lambda k: -k.self_cpu_time_total)[:a.top]:
        cats = '/'.join(sorted(cats_of.get(k.key, {'?'})))
        name = k.key if len(k.key) <= 56 else k.key[:53] + '...'
        print(f'{name:<58}{k.self_cpu_time_total / 1e3 / a.steps:>10.1f}{100 * k.self_cpu_time_total / total:>6.1f}%'
              f'{k.count // a.steps:>8}   {cats}')
    print('(ms and calls per batch)')

    by_cat = defaultdict(float)
    for e in events: by_cat[category(e)] += e.self_cpu_time_total
    print(f'\n{"category":<26}{"ms/batch":>10}{"%":>8}')
    for c in ORDER:
        print(f'{c:<26}{by_cat[c] / 1e3 / a.steps:>10.1f}{100 * by_cat[c] / total:>7.1f}%')
    print(f'{"total":<26}{total / 1e3 / a.steps:>10.1f}{100.0:>7.1f}%')
    print(f'load average now {" ".join(f"{x:.2f}" for x in os.getloadavg())}')
