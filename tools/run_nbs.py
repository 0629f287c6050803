"""Execute notebooks at result scale (SLOWAI_RESULT=1), keeping their outputs, then clean them.

    python tools/run_nbs.py nbs/01_ddpm.ipynb [more.ipynb ...] [--timeout 7200]
    python tools/run_nbs.py nbs/06_eval.ipynb --cells 1-4,6,30-33     # only these cells; the others keep their outputs
    python tools/run_nbs.py nbs/05_homework.ipynb --no-kernel --dest OUT/05_homework.ipynb

Each notebook runs from the nbs/ folder in a fresh Jupyter kernel (or, with --no-kernel, in IPython inside this
process, for machines that have no Jupyter kernel). A notebook is written back, in place or to --dest, only if every
cell that was asked for ran; on an error the file is left untouched, the error is printed and the exit status is 1.
With --cells, the listed cells (0-based indices, the order of the file) run in one kernel, in that order; list the
cells they depend on (imports, definitions) too.
"""
import argparse
import os
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

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


def parse_cells(spec: str, n: int) -> list[int]:
    "'1-4,6,30' -> [1, 2, 3, 4, 6, 30], each checked against the notebook's `n` cells."
    out = []
    for part in spec.split(','):
        a, _, b = part.strip().partition('-')
        try: lo, hi = int(a), int(b or a)
        except ValueError: raise SystemExit(f'--cells {spec}: expected indices and ranges such as 1-4,6') from None
        if not 0 <= lo <= hi < n: raise SystemExit(f'--cells {spec}: {part} is outside the notebook\'s cells 0-{n - 1}')
        out += range(lo, hi + 1)
    return out


def result_env() -> None:
    os.environ['SLOWAI_RESULT'] = '1'
    # tqdm.auto's notice that ipywidgets is missing (it names this machine's paths) is not part of any result
    os.environ['PYTHONWARNINGS'] = 'ignore:IProgress not found'


def run(path: Path, timeout: int, cells: str | None = None, dest: Path | None = None) -> float:
    "Run `path` (all cells, or `cells`) in a Jupyter kernel; write it to `dest` (default: in place)."
    import nbformat
    from nbclient import NotebookClient  # imported here: --no-kernel needs neither
    nb = nbformat.read(path, as_version=4)
    result_env()
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3',
                            resources={'metadata': {'path': str(path.parent)}})
    t0 = time.perf_counter()
    todo = range(len(nb.cells)) if cells is None else parse_cells(cells, len(nb.cells))
    with client.setup_kernel():
        for i in todo:
            if nb.cells[i].cell_type != 'code': continue
            t1 = time.perf_counter()
            try: client.execute_cell(nb.cells[i], i)
            except Exception as e:  # name the cell: nbclient's own errors do not
                raise RuntimeError(f'cell {i} ({nb.cells[i].get("id")}): {type(e).__name__}: {e}') from e
            print(f'  cell {i} ({nb.cells[i].get("id")}): {time.perf_counter() - t1:.0f} s', flush=True)
    secs = time.perf_counter() - t0
    collapse_streams(nb)
    nbformat.write(nb, dest or path)
    return secs


def run_without_kernel(path: Path, dest: Path | None = None) -> float:
    "Run every cell of `path` with IPython in this process (execnb); write it to `dest` (default: in place)."
    result_env()
    warnings.filterwarnings('ignore', message='IProgress not found')  # this process runs the notebook itself
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    nb = read_nb(path)
    here = os.getcwd()
    os.chdir(path.parent)  # notebooks use paths relative to their folder
    try:
        t0 = time.perf_counter()
        CaptureShell(path=path.parent).run_all(nb, exc_stop=True)
    finally: os.chdir(here)
    write_nb(nb, dest or path)
    return time.perf_counter() - t0


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='+', type=Path)
    ap.add_argument('--timeout', type=int, default=4*3600, help='seconds allowed per cell')
    ap.add_argument('--cells', help='run only these cells, e.g. 1-4,6,30 (one notebook only)')
    ap.add_argument('--no-kernel', action='store_true', help='run in IPython inside this process (execnb), no Jupyter kernel')
    ap.add_argument('--dest', type=Path, help='write the executed notebook here instead of in place (one notebook only)')
    ap.add_argument('--collapse-only', action='store_true', help='only tidy the saved stream outputs; run nothing')
    args = ap.parse_args()
    if (args.cells or args.dest) and len(args.notebooks) > 1: ap.error('--cells and --dest take one notebook')
    if args.cells and args.no_kernel: ap.error('--cells needs a Jupyter kernel; leave out --no-kernel')
    if args.collapse_only:
        import nbformat
        for p in args.notebooks:
            nb = nbformat.read(p, as_version=4)
            collapse_streams(nb)
            nbformat.write(nb, p)
        sys.exit(0)
    for p in args.notebooks:
        print(f'running {p} at result scale ...', flush=True)
        dest = args.dest.resolve() if args.dest else None
        try: secs = run_without_kernel(p.resolve(), dest) if args.no_kernel else run(p.resolve(), args.timeout, args.cells, dest)
        except Exception as e:
            # a cell's own error carries its traceback; anything else (nbclient, the kernel) needs one
            if type(e.__cause__).__name__ != 'CellExecutionError': traceback.print_exc()
            print(f'{p}: failed: {type(e).__name__}: {e}', file=sys.stderr)
            sys.exit(1)
        print(f'  done in {secs/60:.1f} min, written to {dest or p}', flush=True)
    if args.dest is None: subprocess.run([Path(sys.executable).parent/'nbdev_clean'], cwd=ROOT, check=True)
