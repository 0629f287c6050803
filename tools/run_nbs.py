"""Execute notebooks in place at result scale (SLOWAI_RESULT=1), keeping their outputs, then clean them.

    python tools/run_nbs.py nbs/01_ddpm.ipynb [more.ipynb ...] [--timeout 7200]

Each notebook runs in a fresh kernel from the nbs/ folder. The notebook is written back only if every cell ran;
on an error the original file is left untouched and the error is printed.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def collapse_streams(nb) -> None:
    """Store stream outputs as a terminal shows them: consecutive writes to one stream are joined, and a carriage
    return overwrites its line, so a progress bar leaves its final state instead of one line per update."""
    for cell in nb.cells:
        merged = []
        for out in cell.get('outputs', []):
            if out.output_type == 'stream' and merged and merged[-1].output_type == 'stream' and merged[-1].name == out.name:
                merged[-1].text += out.text
            else: merged.append(out)
        for out in merged:
            if out.output_type == 'stream':
                lines = [line.rstrip('\r').rsplit('\r', 1)[-1] for line in out.text.split('\n')]
                out.text = '\n'.join(lines)
        if cell.cell_type == 'code':  # a bar that cleared itself leaves only blanks: drop those
            cell.outputs = [o for o in merged if o.output_type != 'stream' or o.text.strip()]


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ['SLOWAI_RESULT'] = '1'
    # tqdm.auto's notice that ipywidgets is missing (it names this machine's paths) is not part of any result
    os.environ['PYTHONWARNINGS'] = 'ignore:IProgress not found'
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3',
                            resources={'metadata': {'path': str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    secs = time.perf_counter() - t0
    collapse_streams(nb)
    nbformat.write(nb, path)
    return secs


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='+', type=Path)
    ap.add_argument('--timeout', type=int, default=4*3600, help='seconds allowed per cell')
    ap.add_argument('--collapse-only', action='store_true', help='only tidy the saved stream outputs; run nothing')
    args = ap.parse_args()
    if args.collapse_only:
        for p in args.notebooks:
            nb = nbformat.read(p, as_version=4)
            collapse_streams(nb)
            nbformat.write(nb, p)
        sys.exit(0)
    for p in args.notebooks:
        print(f'running {p} at result scale ...', flush=True)
        secs = run(p.resolve(), args.timeout)
        print(f'  done in {secs/60:.1f} min', flush=True)
    subprocess.run([Path(sys.executable).parent/'nbdev_clean'], cwd=ROOT, check=True)
