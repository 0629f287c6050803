#!/usr/bin/env python
"""Run one notebook as `nbdev_test` does and print the seconds each cell took, slowest first.

    python tools/time_cells.py nbs/08_reliability.ipynb [--top 15]

For finding where the test suite spends its time: the cells are run with the same skip flags as `nbdev_test`.
"""
import argparse
import cProfile
import pstats
import time
from pathlib import Path

from execnb.shell import CaptureShell
from nbdev.config import get_config
from nbdev.test import test_nb

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('path', type=Path)
ap.add_argument('--top', type=int, default=15, help='how many of the slowest cells to list (default: 15)')
ap.add_argument('--profile', type=int, nargs='*', default=[], help='cells (0-based) to run under cProfile')
a = ap.parse_args()

timings, plain_cell = [], CaptureShell.cell


def timed_cell(self, cell, *args, **kwargs):
    t0, prof = time.perf_counter(), cProfile.Profile() if cell.idx_ in a.profile else None
    if prof: prof.enable()
    try: return plain_cell(self, cell, *args, **kwargs)
    finally:
        timings.append((time.perf_counter() - t0, cell.idx_, cell.get('id', '?'), cell.source))
        if prof:
            prof.disable()
            print(f'== cell {cell.idx_}, by cumulative time')
            pstats.Stats(prof).sort_stats('cumulative').print_stats(35)


CaptureShell.cell = timed_cell
ok, total = test_nb(a.path.resolve(), skip_flags=get_config().tst_flags.split())
print(f'{a.path.name}: {"PASS" if ok else "FAIL"} in {total:.0f} s, {len(timings)} cells run')
for secs, idx, cid, src in sorted(timings, reverse=True)[:a.top]:
    first = next((line for line in src.splitlines() if line.strip() and not line.startswith('#|')), '')
    print(f'{secs:7.1f} s  cell {idx:>3} {cid:<10} {first[:70]}')
