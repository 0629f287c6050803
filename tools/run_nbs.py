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


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ['SLOWAI_RESULT'] = '1'
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3',
                            resources={'metadata': {'path': str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    secs = time.perf_counter() - t0
    nbformat.write(nb, path)
    return secs


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='+', type=Path)
    ap.add_argument('--timeout', type=int, default=4*3600, help='seconds allowed per cell')
    args = ap.parse_args()
    for p in args.notebooks:
        print(f'running {p} at result scale ...', flush=True)
        secs = run(p.resolve(), args.timeout)
        print(f'  done in {secs/60:.1f} min', flush=True)
    subprocess.run([Path(sys.executable).parent/'nbdev_clean'], cwd=ROOT, check=True)
