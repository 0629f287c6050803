#!/usr/bin/env python
"""Distil the shipped unconditional model round by round and score every student, resumably:
`python tools/distill_study.py [--start 64] [--stop 1] [--n_iter 400] [--bs 64] [--baselines]`.

Each round is a `slowai.distill.distill_round` with a checkpoint every 50 optimiser steps, so a killed
run continues to the same weights. Each finished student is then
scored: `--n` images from one seeded generator, sampled with its own number of steps, FID and the rest
on the shipped classifier, written to `ROUND/eval.json` beside a grid of its first 64 samples. The
teacher is scored the same way at `--start` steps, and with `--baselines` at every student's steps.
The distillation page reads --root.
"""
import argparse
import json
import platform
from pathlib import Path

import torch

from slowai.cli import save_grid
from slowai.distill import deterministic_sample, distill_round
from slowai.eval import evaluate
from slowai.pretrained import load_pretrained
from slowai.samplers import CountCalls, measure_sampler

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--root', default='runs/distill', help='one folder per round (default: runs/distill)')
p.add_argument('--start', type=int, default=64, help="the teacher's DDIM steps (default: 64)")
p.add_argument('--stop', type=int, default=1, help="the last student's steps (default: 1)")
p.add_argument('--n_iter', type=int, default=400, help='optimiser steps per round (default: 400)')
p.add_argument('--bs', type=int, default=64, help='images per optimiser step (default: 64)')
p.add_argument('--lr', type=float, default=1e-4, help='constant learning rate (default: 1e-4)')
p.add_argument('--n', type=int, default=1000, help='samples scored per student (default: 1000)')
p.add_argument('--seed', type=int, default=0, help='seeds training and scoring (default: 0)')
p.add_argument('--baselines', action='store_true',
               help="score the teacher's own DDIM at each student's steps instead of distilling")
a = p.parse_args()
root = Path(a.root)
root.mkdir(parents=True, exist_ok=True)
torch.manual_seed(a.seed)
ddpm, teacher = load_pretrained('cpu')


def score(model, steps: int, folder: Path):
    "Sample `a.n` images with `steps` DDIM steps, score them and keep the scores and a grid."
    if (folder / 'eval.json').is_file(): return json.loads((folder / 'eval.json').read_text())
    counted = CountCalls(model)
    res = measure_sampler(lambda sz, gen: deterministic_sample(ddpm, counted, sz, steps, generator=gen,
                                                               progress=False),
                          counted, a.n, 250, seed=a.seed, cache=folder / 'samples.safetensors',
                          resume=True)
    scores = evaluate(res['images'], seed=a.seed) | dict(
        steps=steps, calls=res['calls'], seconds=round(res['seconds'], 1), seed=a.seed,
        cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads())
    save_grid(res['images'][:64], folder / 'samples.png', 8)
    (folder / 'eval.json').write_text(json.dumps(scores, indent=1))
    print(f'{steps:>3} steps: ' + ', '.join(f'{k} {v:.4g}' for k, v in scores.items()
                                             if isinstance(v, float)), flush=True)
    return scores


score(teacher, a.start, root / f'{a.start:04d}-steps-teacher')
steps = a.start // 2
if a.baselines:  # what a student must beat: its teacher's DDIM (eta 0) with as few steps
    while steps >= a.stop:
        score(teacher, steps, root / f'{steps:04d}-steps-teacher')
        steps //= 2
    raise SystemExit
while steps >= a.stop:
    folder = root / f'{steps:04d}-steps'
    teacher = distill_round(teacher, ddpm, steps, folder, n_iter=a.n_iter, bs=a.bs, lr=a.lr, seed=a.seed,
                            save_every=50)
    score(teacher, steps, folder)
    steps //= 2
