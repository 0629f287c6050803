#!/usr/bin/env python
"""Make a finished `slowai_train` run one of the models the package ships: `python tools/ship.py RUN [--n 1000]`.

The run's EMA weights go into `slowai/models/fashion-ddpm` (or `fashion-cond` for a conditional run) in float16, with
its schedule, its losses (`losses.csv`, `batch_losses.csv`, `losses.png`), the samples it drew when training ended,
and `training.json`: the run's settings, the command that trained it, the CPU and the arithmetic (what `auto` picked there), from which the conditional notebook writes
the model card; a run started with `--init_from pretrained` also keeps the record of the model it started from
(`started_from`). The folder is built beside the old one and swapped in whole. Then `slowai_eval --pretrained` scores
the shipped copy (n images, seed 0) with the default sampler and with DDIM eta 1 at 20 and at 50 calls, the
sampler runs score themselves with and the one older tables use, into the folder, where the card lists them.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from slowai.config import DEFAULT_GUIDANCE, DEFAULT_SAMPLER, DEFAULT_STEPS
from slowai.mixed import cpu_name, cpu_precision
from slowai.pretrained import CONDITIONAL_DIR, PRETRAINED_DIR, save_pretrained_ddpm
from slowai.runs import RunError, load_run

ROOT = Path(__file__).resolve().parent.parent
COPIED = ('losses.csv', 'batch_losses.csv', 'quality.csv', 'losses.png', 'samples.png')  # what the card shows, if the run has it


p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('run', help='a finished slowai_train run folder')
p.add_argument('--command', required=True, help='the slowai_train command that trained the run, for the card')
p.add_argument('--n', type=int, default=1000, help='samples slowai_eval scores (default: 1000)')
a = p.parse_args()
try: ddpm, model, info = load_run(a.run)
except RunError as e: p.error(str(e))
if info['epochs_done'] != info['epochs']: p.error(f"{a.run}: {info['epochs_done']} of {info['epochs']} epochs done; finish it with --resume")
if info.get('subset'): p.error(f"{a.run}: trained on a subset of {info['subset']} images; a shipped model sees them all")

dest = ROOT/(CONDITIONAL_DIR if info.get('conditional') else PRETRAINED_DIR)
stage = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f'.{dest.name}.'))
save_pretrained_ddpm(ddpm, model, stage)
for name in COPIED:
    if (Path(a.run)/name).is_file(): shutil.copy(Path(a.run)/name, stage/name)
kept = {k: v for k, v in info.items() if k not in ('weights', 'checkpoint')}  # the run's own files are not shipped
arithmetic = info['mixed_precision'] if info['mixed_precision'] != 'auto' else cpu_precision('train', report=None)  # auto: this CPU's verdict
kept |= dict(command=a.command, cpu=cpu_name(), cpus=os.cpu_count(), arithmetic={'no': 'float32', 'bf16': 'bfloat16'}.get(arithmetic, arithmetic))
if info.get('init_from') == 'pretrained':  # trained on from the model shipped now: the card names that model, whose record is kept
    before = json.loads((dest/'training.json').read_text())
    kept |= dict(init_from=f"the model shipped before it ({before['epochs_done']} epochs; its record is started_from in training.json)",
                 started_from=before)
(stage/'training.json').write_text(json.dumps(kept, indent=1) + '\n')
old = dest.with_name(f'.{dest.name}.old')
if dest.exists(): os.replace(dest, old)
os.replace(stage, dest)
shutil.rmtree(old, ignore_errors=True)
print(f'shipped {a.run} as {dest.relative_to(ROOT)}: {sorted(f.name for f in dest.iterdir())}')

guided = ['--guidance', f'{DEFAULT_GUIDANCE:g}'] if info.get('conditional') else []
w = f'w{DEFAULT_GUIDANCE:g}-' if guided else ''
for name, how in ((f'eval-{DEFAULT_SAMPLER}-{DEFAULT_STEPS}-{w}{a.n}.json', []),  # the default sampler
                  *((f'eval-ddim-eta1-{steps}-{w}{a.n}.json', ['--sampler', 'ddim', '--eta', '1', '--steps', str(steps)])
                    for steps in (20, 50))):
    cmd = [str(Path(sys.executable).with_name('slowai_eval')), '--pretrained', '--n', str(a.n), *how, '--out', str(dest/name), *guided]
    print('$', ' '.join(cmd[1:]), flush=True)
    if subprocess.run(cmd).returncode: sys.exit(f'ship: slowai_eval failed; {dest} holds the new model, unscored')
