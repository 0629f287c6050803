#!/usr/bin/env python
"""Train and score the recipe study in the background, resumably: `python tools/recipe_study.py [--stage screen|confirm] [--only NAME ...]`.

Each recipe of the stage (`slowai.recipes.SCREEN`, 9 minutes each, or `CONFIRM`, 27 minutes each) trains for the same minutes on this machine and its EMA snapshots are scored
(FID and the rest, n images, DDIM eta 1 at 20 calls). What finished is kept under --root and skipped on the next
start; a recipe stopped while training starts over. The recipes notebook draws the curves from --root.
"""
import argparse
from pathlib import Path

from slowai.recipes import CONFIRM, SCREEN, run_study

STAGES = dict(screen=(SCREEN, 9.), confirm=(CONFIRM, 27.))

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--stage', choices=STAGES, default='screen', help='screen: every candidate, short; confirm: the best, longer')
p.add_argument('--minutes', type=float, help="training budget of each recipe (default: the stage's, 9 or 27)")
p.add_argument('--root', help='where the runs and their scores go (default: runs/study/STAGE)')
p.add_argument('--precision', choices=('no', 'bf16'), default='bf16', help='training arithmetic (default: bf16)')
p.add_argument('--n', type=int, default=1000, help='samples scored per snapshot (default: 1000)')
p.add_argument('--only', nargs='*', help='names of the recipes to run (default: all of them)')
a = p.parse_args()
stage, minutes = STAGES[a.stage]
recipes = [r for r in stage if not a.only or r.name in a.only]
names = {r.name for r in stage}
bad = [x for x in a.only or () if x not in names]
if bad: p.error(f"unknown recipe(s) {bad} in the {a.stage} stage; choose from {sorted(names)}")
for row in run_study(recipes, a.minutes or minutes, Path(a.root or f'runs/study/{a.stage}'), n=a.n, precision=a.precision):
    print(row)
