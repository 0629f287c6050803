"""Render the docs offline (tools/docs.py) and check every page in headless Chromium.

    python tools/test_docs.py [--no-render] [--no-proc] [--chromium PATH] [--limit SECONDS]

Serves _docs/ on 127.0.0.1 and opens each page in headless Chromium, driven through the DevTools protocol over a
pipe (--remote-debugging-pipe), so it needs no package beyond the standard library. For every page it checks: no
Python traceback or leftover Pandoc syntax in the text, no error output, every <img> loaded, maths typeset by KaTeX
wherever the source has maths (no `$$` left in the text, no KaTeX error), nothing requested from outside the site,
no failed request or script error, every sidebar link leads to a page that exists; and every notebook in nbs/ has
a page with its title. One screenshot per page goes to _docs/_screens/. Exits 1 listing every problem.
"""
import argparse
import base64
import configparser
import functools
import http.server
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = configparser.ConfigParser()
SETTINGS.read(ROOT/'settings.ini')
NBS = ROOT/SETTINGS.get('DEFAULT', 'nbs_path', fallback='nbs')
DOCS = ROOT/SETTINGS.get('DEFAULT', 'doc_path', fallback='_docs')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars',
         '--window-size=1280,900']
WIDTH, HEIGHT, MAX_SHOT = 1280, 900, 12000
BAD_TEXT = {'a Python traceback': r'Traceback \(most recent call last\)',
            'unrendered Pandoc attributes': r'\]\{|\)\{[.#]?\w+[= ]|\{target=',
            'an unrendered ::: div fence': r'(?m)^:::',
            "nbconvert's unknown-cell text": r'unknown type\s'}
CODE = re.compile(r'(?ms)^(```|~~~).*?^\1|(`+).*?\2')  # fenced blocks and code spans, where `$` is not maths
MATH = re.compile(r'\$\$|(?<![\\$\w])\$[^\s$][^$\n]*?(?<![\s\\])\$(?!\w)|\\\(|\\\[')

# What the browser reports about a page once it has loaded, its fonts are in and its images are decoded.
PROBE = r"""(async () => {
  await document.fonts.ready;
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })));
  const raw = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walk.nextNode());)
    if (n.nodeValue.includes('$$') && !n.parentElement.closest('pre, code, script, style, .katex'))
      raw.push(n.nodeValue.trim().slice(0, 80));
  return {
    h1: ((document.querySelector('main h1') || {}).textContent || '').trim(),
    text: document.body.innerText,
    errorOutputs: document.querySelectorAll('.output_error').length,
    mathDone: document.documentElement.dataset.math === 'done',
    katex: document.querySelectorAll('.katex').length,
    katexErrors: [...document.querySelectorAll('.katex-error, .math-error')]
      .map(e => (e.title || e.textContent).slice(0, 100)),
    rawMath: raw,
    images: imgs.map(i => ({src: (i.getAttribute('src') || '').slice(0, 60), width: i.naturalWidth})),
    sidebar: [...document.querySelectorAll('nav.sidebar a[href]')].map(a => a.href),
    height: document.documentElement.scrollHeight,
  };
})()"""


class CheckError(Exception):
    "The check could not run: no Chromium, a failed render, or a browser that failed to answer or load a page."


class Chromium:
    "Headless Chromium driven through the DevTools protocol over a pipe: JSON messages ending in NUL bytes."

    def __init__(self, exe: str, profile: Path):
        to_r, self._to = os.pipe()        # Chromium reads commands on its fd 3
        self._from, from_w = os.pipe()    # and writes replies and events on its fd 4

        def child_fds():  # in the child, before exec; dup first so that 3 and 4 cannot clobber our ends
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3), os.dup2(b, 4)
            os.set_inheritable(3, True), os.set_inheritable(4, True)

        self.log = profile/'chromium.log'
        cmd = [exe, *FLAGS, f'--user-data-dir={profile}', '--remote-debugging-pipe', 'about:blank']
        with open(self.log, 'wb') as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         close_fds=False, preexec_fn=child_fds)
        os.close(to_r), os.close(from_w)
        self.buf, self.events, self.last_id = b'', [], 0

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        "Call a DevTools method and return its result."
        self.last_id += 1
        msg = {'id': self.last_id, 'method': method, 'params': params or {}}
        if session: msg['sessionId'] = session
        data = json.dumps(msg).encode() + b'\0'
        while data: data = data[os.write(self._to, data):]
        want = self.last_id
        reply = self.wait(lambda m: m.get('id') == want, timeout, what=method)
        if 'error' in reply: raise CheckError(f'{method}: {reply["error"].get("message")}')
        return reply.get('result', {})

    def wait(self, match, timeout: float, what: str) -> dict:
        "The first message that `match`es; events read on the way are kept in `self.events`."
        for m in self.events:
            if match(m):
                self.events.remove(m)
                return m
        deadline = time.monotonic() + timeout
        while not match(m := self._read(deadline, what)):
            if 'method' in m: self.events.append(m)
        return m

    def _read(self, deadline: float, what: str) -> dict:
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0: raise CheckError(f'Chromium did not answer {what} in time')
            if select.select([self._from], [], [], left)[0]:
                chunk = os.read(self._from, 1 << 20)
                if not chunk:
                    raise CheckError(f'Chromium exited (code {self.proc.poll()}); its log ends:\n{self.log_tail()}')
                self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def log_tail(self, n: int = 15) -> str:
        "The end of Chromium's own output."
        return '\n'.join(self.log.read_text(errors='replace').splitlines()[-n:])

    def close(self):
        "Ask Chromium to quit; kill it if it does not."
        try: self.send('Browser.close', timeout=5)
        except (CheckError, OSError): pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()
        os.close(self._to), os.close(self._from)


class Tab:
    "One page (target) of the browser, attached in flat mode."

    def __init__(self, browser: Chromium):
        self.b = browser
        target = browser.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        self.sid = browser.send('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for m in ('Page.enable', 'Runtime.enable', 'Network.enable'): self.call(m)
        self.call('Emulation.setDeviceMetricsOverride',
                  {'width': WIDTH, 'height': HEIGHT, 'deviceScaleFactor': 1, 'mobile': False})

    def call(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        return self.b.send(method, params, self.sid, timeout)

    def open(self, url: str, timeout: float = 30):
        "Forget earlier events, load `url` and wait for its load event."
        self.b.events.clear()
        res = self.call('Page.navigate', {'url': url})
        if res.get('errorText'): raise CheckError(f'{url}: {res["errorText"]}')
        loaded = lambda m: m.get('method') == 'Page.loadEventFired' and m.get('sessionId') == self.sid
        self.b.wait(loaded, timeout, f'the load of {url}')

    def probe(self) -> dict:
        "Run PROBE in the page and return its report."
        res = self.call('Runtime.evaluate', {'expression': PROBE, 'awaitPromise': True, 'returnByValue': True})
        if 'exceptionDetails' in res: raise CheckError(f'probe failed: {res["exceptionDetails"].get("text")}')
        return res['result']['value']

    def screenshot(self, path: Path, height: int):
        "Save a PNG of the page from the top, up to MAX_SHOT pixels tall."
        clip = {'x': 0, 'y': 0, 'width': WIDTH, 'height': min(max(height, HEIGHT), MAX_SHOT), 'scale': 1}
        res = self.call('Page.captureScreenshot', {'format': 'png', 'captureBeyondViewport': True, 'clip': clip}, 60)
        path.write_bytes(base64.b64decode(res['data']))


# ---------------------------------------------------------------- what the sources promise

def source_notebooks() -> list[Path]:
    "The notebooks nbdev renders: those in nbs/ whose path has no part starting with `_` or `.`."
    hidden = lambda p: any(part.startswith(('_', '.')) for part in p.relative_to(NBS).parts)
    return sorted(p for p in NBS.rglob('*.ipynb') if not hidden(p))


def expected(nb_path: Path) -> tuple[str, bool]:
    "A notebook's title (front matter, else its first `# ` heading) and whether it has maths to typeset."
    nb = nbformat.read(nb_path, as_version=4)
    title, texts = None, []
    for c in nb.cells:
        if c.cell_type == 'raw' and (m := re.search(r'^title:\s*(.+)$', c.source, re.M)):
            title = title or m.group(1).strip('\'" ')
        if c.cell_type == 'markdown':
            texts.append(c.source)
            if not title and (m := re.search(r'^# (.+)$', c.source, re.M)): title = m.group(1).strip()
        for o in c.get('outputs', []):
            texts += [str(o.get('data', {}).get(k, '')) for k in ('text/markdown', 'text/latex')]
    return title or nb_path.stem, any(MATH.search(CODE.sub('', t)) for t in texts)


# ---------------------------------------------------------------- serving and checking

def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    "Serve `folder` on a free port of 127.0.0.1 from a background thread."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def site_file(url: str, origin: str) -> Path | None:
    "The file under _docs that a same-site URL names, or None for an outside URL."
    if not url.startswith(origin + '/'): return None
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path).lstrip('/')
    return DOCS/(path + 'index.html' if path.endswith('/') or not path else path)


def network_problems(events: list[dict], origin: str) -> list[str]:
    "Requests that left the site, failed, or got an HTTP error, and script errors."
    urls, out = {}, []
    for e in events:
        p, kind = e.get('params', {}), e.get('method')
        if kind == 'Network.requestWillBeSent':
            url = urls[p['requestId']] = p['request']['url']
            if not url.startswith((origin + '/', 'data:', 'about:')): out.append(f'requested {url[:100]} from outside the site')
        elif kind == 'Network.loadingFailed':
            out.append(f'failed to load {urls.get(p["requestId"], "?")[:100]}: {p.get("errorText")}')
        elif kind == 'Network.responseReceived' and p['response']['status'] >= 400:
            out.append(f'HTTP {p["response"]["status"]} for {p["response"]["url"][:100]}')
        elif kind == 'Runtime.exceptionThrown':
            d = p['exceptionDetails']
            out.append(f'script error: {d.get("text")} {d.get("exception", {}).get("description", "")[:200]}')
    return out


def page_problems(r: dict, has_math: bool, origin: str) -> list[str]:
    "What is wrong with one page, from the probe's report."
    out = [f'shows {what}' for what, rx in BAD_TEXT.items() if re.search(rx, r['text'])]
    if r['errorOutputs']: out.append(f'has {r["errorOutputs"]} error output(s)')
    if not r['h1']: out.append('has no title')
    out += [f'image {i["src"]}... did not load' for i in r['images'] if i['width'] <= 0]
    if not r['mathDone']: out.append('the maths script did not run')
    if has_math and not r['katex']: out.append('its notebook has maths but no KaTeX element was made')
    out += [f'KaTeX error: {e}' for e in r['katexErrors']]
    out += [f'raw $$ left in the text: {t!r}' for t in r['rawMath']]
    if not r['sidebar']: out.append('has no sidebar links')
    for href in r['sidebar']:
        f = site_file(href.split('#')[0], origin)
        if f is not None and not f.is_file(): out.append(f'sidebar link {href.removeprefix(origin)} leads to no page')
    return out


def find_chromium(explicit: str | None) -> str:
    "The Chromium binary: --chromium, $CHROMIUM, or chromium / chromium-browser / google-chrome on PATH."
    for c in (explicit, os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome'):
        if c and (exe := shutil.which(c)): return exe
    raise CheckError('Chromium is not installed: on Debian/Ubuntu run `apt-get install chromium` '
                       '(or pass --chromium PATH, or set CHROMIUM)')


def render(no_proc: bool) -> float:
    "Run tools/docs.py; return the seconds it took."
    t0 = time.perf_counter()
    cmd = [sys.executable, str(ROOT/'tools/docs.py')] + (['--no-proc'] if no_proc else [])
    if subprocess.run(cmd, cwd=ROOT).returncode: raise CheckError('tools/docs.py could not render the site (see above)')
    return time.perf_counter() - t0


def check_page(tab: Tab, rel: str, origin: str, math_titles: set) -> tuple[dict, list[str]]:
    "Open one page, screenshot it, and return its row for the summary and its problems."
    tab.open(f'{origin}/{urllib.parse.quote(rel)}')
    r = tab.probe()
    events = list(tab.b.events)
    tab.screenshot(DOCS/'_screens'/(rel.replace('/', '__').removesuffix('.html') + '.png'), r['height'])
    found = network_problems(events, origin) + page_problems(r, r['h1'] in math_titles, origin)
    return dict(page=rel, title=r['h1'], images=len(r['images']), katex=r['katex'], ok=not found), found


def check_site(exe: str, deadline: float) -> tuple[list[dict], list[str]]:
    "Open every page of _docs; return a row per page and the problems found."
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob('*.html')
                   if not p.relative_to(DOCS).parts[0].startswith('_'))
    if not pages: return [], [f'no pages in {DOCS}']
    notebooks = {p: expected(p) for p in source_notebooks()}
    math_titles = {t for t, has_math in notebooks.values() if has_math}
    (DOCS/'_screens').mkdir(exist_ok=True)
    rows, problems = [], []
    with tempfile.TemporaryDirectory(prefix='slowai-chromium-') as profile:
        browser = Chromium(exe, Path(profile))  # before the server thread: the child is forked without threads
        srv = serve(DOCS)
        origin = f'http://127.0.0.1:{srv.server_address[1]}'
        try:
            tab = Tab(browser)
            for rel in pages:
                if time.monotonic() > deadline:
                    problems.append('time limit reached before every page was checked')
                    break
                row, found = check_page(tab, rel, origin, math_titles)
                rows.append(row)
                problems += [f'{rel}: {p}' for p in found]
        except CheckError as e:
            problems.append(f'browser: {e}\n{browser.log_tail()}')
        finally:
            srv.shutdown()
            browser.close()
    titles = {r['title'] for r in rows}
    problems += [f'{nb.relative_to(ROOT)}: no page has its title {t!r}' for nb, (t, _) in notebooks.items()
                 if t not in titles]
    return rows, problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--no-render', action='store_true', help='check the _docs/ already there')
    ap.add_argument('--no-proc', action='store_true', help='render from the existing _proc/ (skip nbdev)')
    ap.add_argument('--chromium', help='the Chromium binary (default: $CHROMIUM or chromium on PATH)')
    ap.add_argument('--limit', type=float, default=280, help='seconds allowed for render and checks together')
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    try:
        exe = find_chromium(args.chromium)
        render_s = 0.0 if args.no_render else render(args.no_proc)
        rows, problems = check_site(exe, t0 + args.limit)
    except CheckError as e:
        print(f'test_docs: {e}', file=sys.stderr)
        return 1
    for r in rows:
        print(f'{"ok  " if r["ok"] else "FAIL"} {r["page"]:<26} imgs {r["images"]:>3}  katex {r["katex"]:>4}  {r["title"]}')
    total = time.monotonic() - t0
    print(f'render {render_s:.0f}s, browser checks {total - render_s:.0f}s, total {total:.0f}s; '
          f'screenshots in {DOCS/"_screens"}')
    if total > args.limit: problems.append(f'took {total:.0f}s, over the {args.limit:.0f}s limit')
    if problems:
        print(f'\n{len(problems)} problem(s):', *problems, sep='\n  ', file=sys.stderr)
        return 1
    print(f'docs: {len(rows)} pages checked, no problems')
    return 0


if __name__ == '__main__':
    sys.exit(main())
