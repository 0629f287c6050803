"""Run every slowai test and summarise: the README and library sync checks and the code-line check (no notebook
code line over 100 characters), then each notebook under nbdev_test, the wheel and the docs site, several at a time.

    python tools/run_tests.py [--only NAME ...] [--jobs N]

The sync checks run first and alone (the library check rewrites slowai/ while it runs). The rest run `--jobs` at a
time (default: one per CPU core, at most 4), each with an equal share of the cores as its torch threads
(OMP_NUM_THREADS), the longest first: most of a notebook's test time is single-threaded (starting Python, importing
torch, small batches), so two notebooks on two cores finish sooner than one after the other with two threads each.
Each check's output is printed when it ends, whole. How long each check took is kept in
~/.cache/slowai/test-times.json and orders the next run; without it, the notebooks with the most code go first.
Ends with a line `N passed, N failed`; exits 1 if anything failed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TIMES = Path('~/.cache/slowai/test-times.json').expanduser()
SYNC = ('readme in sync', 'library in sync', 'code lines fit')


def checks() -> list[tuple[str, list[str]]]:
    nbs = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
    out = [('readme in sync', [sys.executable, 'tools/readme.py', '--check']),
           ('library in sync', [sys.executable, 'tools/check_export.py']),
           ('code lines fit', [sys.executable, 'tools/fit_lines.py', '--check'])]
    out += [(p.name, [str(BIN/'nbdev_test'), '--path', str(p.relative_to(ROOT))]) for p in nbs]
    out += [('wheel in fresh venv', ['bash', 'tools/test_wheel.sh']),
            ('docs site', [sys.executable, 'tools/test_docs.py'])]
    return out


def expected_seconds(name: str, known: dict) -> float:
    "The last run's time of a check, else for a notebook the size of its code (a check with neither goes first)."
    if name in known: return known[name]
    path = ROOT/'nbs'/name
    if not path.is_file(): return float('inf')
    cells = json.loads(path.read_text())['cells']
    return sum(len(''.join(c['source'])) for c in cells if c['cell_type'] == 'code') / 100


def run_check(name: str, cmd: list[str], threads: int | None) -> tuple[bool, float, str]:
    "Run one check with its output in a file; (passed, seconds, output)."
    env = dict(os.environ)
    if threads: env['OMP_NUM_THREADS'] = str(threads)
    with tempfile.TemporaryFile('w+') as log:
        t0 = time.perf_counter()
        ok = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env).returncode == 0
        secs = time.perf_counter() - t0
        log.seek(0)
        return ok, secs, log.read()


def report(name: str, ok: bool, secs: float, output: str):
    print(f'== {name}\n{output.rstrip()}' if output.strip() else f'== {name}')
    print(f'-- {name}: {"PASS" if ok else "FAIL"} ({secs:.0f}s)', flush=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', nargs='*', help='run only the checks whose names contain one of these words')
    ap.add_argument('--jobs', type=int, default=min(os.cpu_count() or 1, 4),
                    help='checks at a time (default: one per core, at most 4); 1 runs them one after the other')
    args = ap.parse_args()
    if args.jobs < 1: ap.error(f'--jobs {args.jobs}: expected 1 or more')
    todo = [(n, c) for n, c in checks() if not args.only or any(w in n for w in args.only)]
    try: known = json.loads(TIMES.read_text())
    except (OSError, ValueError): known = {}
    results, t_all = {}, time.perf_counter()
    for name, cmd in [(n, c) for n, c in todo if n in SYNC]:
        results[name] = run_check(name, cmd, None)
        report(name, *results[name])
    rest = sorted(((n, c) for n, c in todo if n not in SYNC), key=lambda nc: -expected_seconds(nc[0], known))
    threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None
    with ThreadPoolExecutor(args.jobs) as pool:
        running = {pool.submit(run_check, n, c, threads): n for n, c in rest}
        for done in as_completed(running):
            results[running[done]] = done.result()
            report(running[done], *results[running[done]])
    print(f'\n== summary ({args.jobs} at a time)')
    for name, _ in todo:
        ok, secs, _ = results[name]
        print(f'{"PASS" if ok else "FAIL"}  {secs:6.0f}s  {name}')
    n_fail = sum(not ok for ok, _, _ in results.values())
    print(f'total {time.perf_counter() - t_all:.0f}s')
    print(f'{len(results) - n_fail} passed, {n_fail} failed')
    try:
        TIMES.parent.mkdir(parents=True, exist_ok=True)
        TIMES.write_text(json.dumps(known | {n: round(s) for n, (_, s, _) in results.items()}, indent=1))
    except OSError: pass  # the order of the next run is only a guess then
    sys.exit(1 if n_fail else 0)
