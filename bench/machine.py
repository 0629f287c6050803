"""What every benchmark prints first: the machine and the versions it ran with."""
import os
import platform
import time

import diffusers
import numpy as np
import torch

import slowai


def cpu_model() -> str:
    "The CPU's model name from /proc/cpuinfo (or what `platform` knows)."
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    "One line: CPU, cores, torch threads, load average, and the versions of python, torch, diffusers, numpy, slowai."
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return (f'machine: {cpu_model()}, {cores} cores, {torch.get_num_threads()} torch threads, load average '
            f'{" ".join(f"{x:.2f}" for x in os.getloadavg())}; python {platform.python_version()}, torch {torch.__version__}, '
            f'diffusers {diffusers.__version__}, numpy {np.__version__}, slowai {slowai.__version__}')


def gemm_gflops(n: int = 1024, reps: int = 3) -> float:
    "Best rate of an `n`x`n` float32 matrix product, in GFLOP/s: the peak, or a check of how fast the cores are now."
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9
