"""Execute a notebook in place at result scale without a Jupyter kernel (IPython in this process, via execnb).

    python tools/exec_nb.py nbs/05_homework.ipynb [--dest OUT.ipynb]

For machines that have IPython but no Jupyter kernel; `tools/run_nbs.py` is the usual runner. The notebook runs
from its own folder with SLOWAI_RESULT=1; on an error nothing is written and the exit status is 1.
"""
import argparse
import os
import warnings
import sys
import time
from pathlib import Path

os.environ['SLOWAI_RESULT'] = '1'
# tqdm.auto's notice that ipywidgets is missing (it names this machine's paths) is not part of any result
warnings.filterwarnings('ignore', message='IProgress not found')  # this process runs the notebook itself
os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('notebook'); p.add_argument('--dest', default=None)
args = p.parse_args()
src = Path(args.notebook).resolve()
nb = read_nb(src)
os.chdir(src.parent)  # notebooks use paths relative to their folder
shell = CaptureShell(path=src.parent)
t0 = time.perf_counter()
try: shell.run_all(nb, exc_stop=True)
except Exception as e:
    print(f'{src.name}: failed after {time.perf_counter() - t0:.0f} s: {type(e).__name__}: {e}', file=sys.stderr)
    sys.exit(1)
write_nb(nb, args.dest or src)
print(f'{src.name}: ran in {time.perf_counter() - t0:.0f} s, written to {args.dest or src}')
