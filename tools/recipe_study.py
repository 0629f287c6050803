#!/usr/bin/env python
"""Train and score the recipe study in the background, resumably: `python tools/recipe_study.py [--minutes M] [--only NAME ...]`.

Each recipe of `slowai.recipes.SCREEN` trains for the same minutes on this machine and its EMA snapshots are scored
(FID and the rest, n images, DDIM eta 1 at 20 calls). What finished is kept under --root and skipped on the next
start; a recipe stopped while training starts over. The recipes notebook draws the curves from --root.
"""
import argparse
from pathlib import Path

from slowai.recipes import SCREEN, run_study

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--minutes', type=float, default=9., help='training budget of each recipe (default: 9)')
p.add_argument('--root', default='runs/study/screen', help='where the runs and their scores go')
p.add_argument('--precision', choices=('no', 'bf16'), default='bf16', help='training arithmetic (default: bf16)')
p.add_argument('--n', type=int, default=1000, help='samples scored per snapshot (default: 1000)')
p.add_argument('--only', nargs='*', help='names of the recipes to run (default: all of them)')
a = p.parse_args()
recipes = [r for r in SCREEN if not a.only or r.name in a.only]
names = {r.name for r in SCREEN}
bad = [x for x in a.only or () if x not in names]
if bad: p.error(f"unknown recipe(s) {bad}; choose from {sorted(names)}")
for row in run_study(recipes, a.minutes, Path(a.root), n=a.n, precision=a.precision):
    print(row)
