"""Render the docs site into _docs/ without Quarto: nbdev's notebook processing, then nbconvert's HTML exporter.

    python tools/docs.py [--no-proc] [--out DIR] [--katex DIR] [--workers N]

1. nbdev does what `nbdev_proc_nbs` does, without its Quarto install: it refreshes nbs/nbdev.yml from settings.ini,
   writes nbs/sidebar.yml from the notebooks (`nbdev_sidebar`, skipped when settings.ini sets custom_sidebar) and
   processes the notebooks into _proc/ (front matter, show_doc output, links to the API).
2. Each page in _proc/ becomes _docs/<its output-file>: the saved outputs (text, tables, images), a sidebar from
   _quarto.yml and its metadata files, and maths typeset in the browser by KaTeX, copied from this machine (Debian's
   `libjs-katex`, or npm's `katex`) so that no page loads anything from the web.
3. What _quarto.yml asks of a reader's page, done offline: a table of contents (`toc`), a search box over a JSON
   index of every section (`search`), links to report an issue and to the page's notebook (`repo-actions`), a
   copy button on code, and captions from `#| fig-cap`. A setting with no equivalent here (`twitter-card`, the
   theme, ...) is named in one warning line, so that nothing is dropped silently. _docs/ then holds the site and
   nothing else, with an empty `.nojekyll` so that GitHub Pages serves it as it is.

On GitHub, Quarto renders the published site (.github/workflows/deploy.yaml); this is the fallback that needs no
Quarto, used by the tests and wherever Quarto cannot be installed.

Why nbconvert and not smalldocs (0.5.4): nbconvert is the Jupyter project's long-maintained exporter and already a
dev requirement, so this adds no package. smalldocs would read _quarto.yml and give a Quarto-like theme, but it needs
Python >= 3.11 (slowai supports 3.10), is young with one maintainer, hard-codes KaTeX from a CDN, and ignores
`output-file`, so nbdev's links (prelude.html#...) would break. What nbconvert lacks (the page shell, the sidebar,
and the few Quarto idioms in nbdev's output: front matter, `#| echo/output/include`, `{...}` attributes,
`:::` divs, `code-fold`) is the short code below.
"""
import argparse
import html
import json
import os
import posixpath
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat
import yaml
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from pygments.formatters import HtmlFormatter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
ASSETS = Path(__file__).resolve().parent/'docs_assets'
PAGE_SUFFIXES = ('.ipynb', '.md', '.qmd')
CONFIG_FILES = ('_quarto.yml', 'nbdev.yml', 'sidebar.yml', '_brand.yml')
KATEX_HELP = ('KaTeX is not installed; the docs need a local copy to typeset maths offline. Install it with\n'
              '  apt-get install libjs-katex      (Debian/Ubuntu; files in /usr/share/javascript/katex)\n'
              'or, in the repository root,\n'
              '  npm install katex                (files in node_modules/katex/dist)\n'
              'or set KATEX_DIR to a folder holding katex.min.js, katex.min.css, fonts/ and contrib/auto-render.')


class DocsError(Exception):
    "A problem the user can fix; printed without a traceback."


@dataclass
class Page:
    src: str          # path in _proc/, e.g. '00_prelude.ipynb'
    out: str          # path in _docs/, e.g. 'prelude.html'
    title: str
    description: str
    nb: nbformat.NotebookNode


# ---------------------------------------------------------------- nbdev's processing

def process_notebooks(workers: int) -> Path:
    "Run nbdev's docs processing (`nbdev_proc_nbs` minus the Quarto install) and return the `_proc` folder."
    os.chdir(ROOT)  # nbdev finds settings.ini from the working directory
    from nbdev.quarto import nbdev_sidebar, refresh_quarto_yml
    from nbdev.serve import proc_nbs
    refresh_quarto_yml()
    nbdev_sidebar.__wrapped__()
    try: proc = Path(proc_nbs(n_workers=workers))
    except Exception as e: raise DocsError(proc_failure(e)) from None
    prune_stale(proc, nbs_path())
    return proc


def proc_failure(e: Exception) -> str:
    "nbdev's error, shortened to what the notebook author needs."
    causes = [str(c) for c in (e, e.__cause__) if c]
    why = re.findall(r'^(\w+(?:Error|Exception): .*)$', '\n'.join(causes), re.M)
    return (f'nbdev could not process the notebooks: {str(e).strip()}\n' + (f'because: {why[-1]}\n' if why else '') +
            'nbdev runs the show_doc cells and every cell that contains an import statement; '
            'move imports in such a cell to its own cell or guard what it needs.')


def nbs_path() -> Path:
    "The notebooks folder named by settings.ini."
    from nbdev.config import get_config
    return Path(get_config(path=ROOT).nbs_path)


def prune_stale(proc: Path, nbs: Path):
    "Delete pages from `_proc` whose source is gone from nbs/ (nbdev's cache keeps them)."
    for p in list(proc.rglob('*')):
        if p.suffix in PAGE_SUFFIXES and not (nbs/p.relative_to(proc)).exists(): p.unlink()


# ---------------------------------------------------------------- site options

def merge(a: dict, b: dict) -> dict:
    "Merge option dicts as Quarto does: `b` wins, nested dicts are merged."
    out = dict(a)
    for k, v in b.items(): out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def site_config(proc: Path, nbs: Path) -> dict:
    "`_quarto.yml` merged with its `metadata-files` (nbdev.yml, sidebar.yml)."
    qy = proc/'_quarto.yml'
    if not qy.exists(): raise DocsError(f'{qy} is missing: nbdev copies it from nbs/_quarto.yml, which the site needs')
    cfg = yaml.safe_load(qy.read_text()) or {}
    for name in cfg.get('metadata-files', []):
        f = proc/name if (proc/name).exists() else nbs/name
        if not f.exists(): raise DocsError(f'_quarto.yml names metadata file {name}, found in neither {proc} nor {nbs}')
        cfg = merge(cfg, yaml.safe_load(f.read_text()) or {})
    return cfg


def as_list(v) -> list:
    "An option that may be one value or a list, as a list."
    return [] if v is None else v if isinstance(v, list) else [v]


# The _quarto.yml settings this renderer carries out, by dotted path: None for any value, else the one value it
# matches (the header is the theme's primary colour; the site is a website). Every other setting is reported.
DONE = {'project.type': 'website', 'project.output-dir': None, 'metadata-files': None,
        'format.html.css': None, 'format.html.toc': None, 'format.html.toc-depth': None, 'format.html.toc-title': None,
        'website.title': None, 'website.description': None, 'website.site-url': None, 'website.repo-url': None,
        'website.repo-branch': None, 'website.repo-actions': None, 'website.search': None,
        'website.navbar.search': None, 'website.navbar.background': 'primary', 'website.sidebar.contents': None}
REPO_ACTIONS = ('issue', 'source', 'edit')


def settings_paths(cfg: dict, prefix: str = '') -> list[tuple[str, object]]:
    "The settings in `cfg` as (dotted path, value), one per leaf; a list is one value."
    out = []
    for k, v in cfg.items():
        path = f'{prefix}{k}'
        if isinstance(v, dict) and v and path not in DONE: out += settings_paths(v, path + '.')
        else: out.append((path, v))
    return out


def unsupported(cfg: dict) -> list[str]:
    "One line per _quarto.yml setting that has no equivalent here (only Quarto carries it out)."
    out = []
    for path, value in settings_paths(cfg):
        if path in DONE and DONE[path] in (None, value):
            if path == 'website.repo-actions' and (odd := [a for a in as_list(value) if a not in REPO_ACTIONS]):
                out.append(f'{path}: {", ".join(map(str, odd))}')
            continue
        out.append(f'{path}: {json.dumps(value) if not isinstance(value, str) else value}')
    return [f'{line} is not implemented by tools/docs.py (Quarto renders it)' for line in out]


def repo_links(cfg: dict) -> dict:
    "Where the repository's issue form and notebooks are, from settings.ini (git_url, branch, nbs_path)."
    from nbdev.config import get_config
    c = get_config(path=ROOT)
    git = str(c.get('git_url') or f'https://github.com/{c.user}/{c.repo}').rstrip('/')
    actions = as_list(cfg.get('website', {}).get('repo-actions'))
    nbs = Path(c.nbs_path).relative_to(Path(c.config_file).parent).as_posix()
    return dict(issue=f'{git}/issues/new' if 'issue' in actions else '', source=f'{git}/blob/{c.branch}/{nbs}/',
                edit=f'{git}/edit/{c.branch}/{nbs}/' if 'edit' in actions else '')


# ---------------------------------------------------------------- reading pages

FRONT = re.compile(r'\A\s*---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)', re.S)


def front_matter(text: str) -> tuple[dict, str]:
    "The YAML front matter at the top of `text` (or {}), and the rest of the text."
    m = FRONT.match(text)
    if not m: return {}, text
    meta = yaml.safe_load(m.group(1)) or {}
    return (meta, text[m.end():]) if isinstance(meta, dict) else ({}, text)


def first_heading(nb) -> str | None:
    "The text of the first `# ` heading in a markdown cell."
    for c in nb.cells:
        m = re.search(r'^# (.+)$', c.source, re.M) if c.cell_type == 'markdown' else None
        if m: return m.group(1).strip()


def load_page(proc: Path, path: Path) -> Page:
    "Read a processed notebook (or .md/.qmd page) and its front matter."
    if path.suffix == '.ipynb':
        nb, meta = nbformat.read(path, as_version=4), {}
        for i, c in enumerate(nb.cells):
            if c.cell_type == 'raw' and (meta := front_matter(c.source)[0]):
                del nb.cells[i]
                break
    else:
        meta, text = front_matter(path.read_text())
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    rel = path.relative_to(proc).as_posix()
    out = posixpath.join(posixpath.dirname(rel), meta.get('output-file') or path.stem + '.html')
    return Page(rel, out, str(meta.get('title') or first_heading(nb) or path.stem),
                str(meta.get('description') or ''), nb)


def find_pages(proc: Path) -> list[Path]:
    "Pages in `_proc`, the home page first, then in name order (as nbdev orders the sidebar)."
    found = [p for p in proc.rglob('*') if p.suffix in PAGE_SUFFIXES
             and not any(part.startswith(('_', '.')) for part in p.relative_to(proc).parts)]
    return sorted(found, key=lambda p: (p.relative_to(proc).parent.parts, p.stem != 'index', p.name))


# ---------------------------------------------------------------- Quarto idioms in cells

DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
NO = ('false', 'no', '0')


def split_directives(source: str) -> tuple[dict, str]:
    "The `#| key: value` lines that open a code cell, and the code without them."
    opts, lines = {}, source.splitlines()
    while lines and (m := DIRECTIVE.match(lines[0])):
        opts[m.group(1)] = m.group(2).strip('"\'')
        lines.pop(0)
    return opts, '\n'.join(lines)


def prepare_code_cell(cell):
    "Apply Quarto's `include`, `echo`, `output` and `code-fold` options as nbconvert tags and cell metadata."
    opts, cell.source = split_directives(cell.source)
    tags = set(cell.metadata.get('tags', []))
    if opts.get('include') in NO: tags.add('remove_cell')
    if opts.get('echo') in NO: tags.add('remove_input')
    if opts.get('output') in NO: tags.add('remove_output')
    if opts.get('output') == 'asis': tags.add('asis')  # markdown output that reads as part of the page (show_doc)
    cell.metadata['tags'] = sorted(tags)
    if opts.get('code-fold', 'false') not in NO:
        cell.metadata['code_fold'] = opts['code-fold']
        cell.metadata['code_summary'] = opts.get('code-summary', 'Code')
    if opts.get('fig-cap'): caption_last_image(cell, opts['fig-cap'])


IMAGE_TYPES = ('image/png', 'image/jpeg', 'image/svg+xml')


def inline_markdown(text: str) -> str:
    "One line of markdown (a subtitle, a caption) as HTML without its paragraph: backticks become <code>."
    return re.sub(r'\A\s*<p>(.*)</p>\s*\Z', r'\1', markdown2html_mistune(text), flags=re.S)


def caption_last_image(cell, caption: str):
    "Quarto's `#| fig-cap`: the cell's (last) image output gets the caption, drawn by cells.html.j2 as a <figcaption>."
    images = [o for o in cell.get('outputs', []) if any(t in o.get('data', {}) for t in IMAGE_TYPES)]
    if images: images[-1].setdefault('metadata', {})['fig_cap'] = inline_markdown(caption)


ATTR_LINK = re.compile(r'(!?)\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}')


def html_attrs(spec: str) -> str:
    "Pandoc's `{#id .class key=value}` as HTML attributes."
    classes = re.findall(r'(?:^|\s)\.([\w-]+)', spec)
    ident = re.findall(r'(?:^|\s)#([\w-]+)', spec)
    pairs = [(k, v.strip('"')) for k, v in re.findall(r'([\w-]+)=("[^"]*"|[^\s"]+)', spec)]
    if any(c.startswith('callout-') for c in classes): classes.insert(0, 'callout')
    attrs = ([('id', ident[0])] if ident else []) + ([('class', ' '.join(classes))] if classes else []) + pairs
    return ''.join(f' {k}="{html.escape(v)}"' for k, v in attrs)


def _attr_link(m) -> str:
    bang, text, url, spec = m.groups()
    if bang: return f'<img src="{html.escape(url)}" alt="{html.escape(text)}"{html_attrs(spec)}>'
    return f'<a href="{html.escape(url)}"{html_attrs(spec)}>{text}</a>'


def fenced_divs(text: str) -> str:
    "Pandoc's `::: {.class}` ... `:::` divs as HTML divs, markdown inside; unbalanced fences are closed."
    out, depth = [], 0
    for line in text.split('\n'):
        m = re.match(r'^:{3,}\s*(.*?)\s*$', line)
        if not m: out.append(line)
        elif m.group(1):
            spec = m.group(1).strip('{} ')
            if not spec.startswith(('.', '#')) and '=' not in spec: spec = '.' + spec  # `::: callout-note`
            out += ['', f'<div{html_attrs(spec)}>', '']
            depth += 1
        elif depth:
            out += ['', '</div>', '']
            depth -= 1
    return '\n'.join(out + ['', '</div>'] * depth)


CODE_OR_DOLLAR = re.compile(r'(?ms)(^(```|~~~).*?^\2|(`+).*?\3)|\\\$')  # code (group 1), or an escaped dollar


def literal_dollars(text: str) -> str:
    "Keep an escaped `\\$` outside code a dollar sign: markdown would unescape it and KaTeX read it as maths."
    return CODE_OR_DOLLAR.sub(lambda m: m.group(1) or '<span class="dollar">&#36;</span>', text)


def quarto_markdown(text: str) -> str:
    "Markdown with nbdev's Pandoc extensions turned into the HTML that CommonMark passes through."
    return literal_dollars(fenced_divs(ATTR_LINK.sub(_attr_link, text)))


# show_doc's markdown: a rule, the [source] link, `### name`, then the signature in a ```python block.
SHOW_DOC = re.compile(r'\A(\s*---\s*\n(?:\s*\[source\]\([^)]*\)(?:\{[^}]*\})?\s*\n)?\s*)(#{1,6}) +(\S+)[ \t]*$', re.M)
FENCE = re.compile(r'(?ms)^(```|~~~).*?^\1')
CODE_LINK = re.compile(r'\[(`[^`\n]+`)\]\([^)\s]+\)')


def show_doc_entry(md: str) -> str:
    """Mark show_doc's heading as an API entry (class doc-entry, so it keeps the plain id that nbdev links to),
    and undo the links that nbdev's `add_links` wrote into the signature, where markdown shows them raw."""
    m = SHOW_DOC.match(md)
    if not m: return md
    level, name = len(m.group(2)), m.group(3)
    md = md[:m.start(2)] + f'<h{level} class="doc-entry">{html.escape(name)}</h{level}>' + md[m.end():]
    return FENCE.sub(lambda f: CODE_LINK.sub(r'\1', f.group(0)), md)


def prepare_notebook(nb):
    "Make a processed notebook ready for nbconvert."
    for cell in nb.cells:
        if cell.cell_type == 'markdown': cell.source = quarto_markdown(cell.source)
        if cell.cell_type != 'code': continue
        prepare_code_cell(cell)
        for o in cell.get('outputs', []):
            if 'text/markdown' in o.get('data', {}):
                o.data['text/markdown'] = quarto_markdown(show_doc_entry(o.data['text/markdown']))


def count_errors(nb) -> int:
    "How many saved outputs are errors."
    return sum(o.get('output_type') == 'error' for c in nb.cells for o in c.get('outputs', []))


# ---------------------------------------------------------------- HTML

def exporter() -> HTMLExporter:
    "nbconvert's cell HTML (no prompts), honouring our tags and folding exported source."
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {'remove_cell'}
    c.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {'remove_output'}
    return HTMLExporter(config=c, template_name='basic', template_file='cells.html.j2',
                        extra_template_paths=[str(ASSETS)], exclude_input_prompt=True, exclude_output_prompt=True)


def slug(text: str) -> str:
    "A heading id as Pandoc (and so nbdev's links) makes it: `DataError` -> `dataerror`, `2. Fréchet` -> `fréchet`."
    s = re.sub(r'[^\w\s.-]', '', text.lower()).strip()
    s = re.sub(r'^[\W\d_]+', '', s)  # an id starts at the first letter
    return re.sub(r'\s+', '-', s) or 'section'


BLOCK_TAG = re.compile(r'</?(?:p|div|li|ul|ol|tr|td|th|table|br|hr|h[1-6]|pre|blockquote|figure|figcaption|dd|dt)\b[^>]*>')


def strip_tags(fragment: str) -> str:
    "The text of an HTML fragment, whitespace collapsed: blocks are set apart, inline tags (code's colours) are not."
    fragment = BLOCK_TAG.sub(' ', re.sub(r'(?s)<(script|style)\b.*?</\1>', ' ', fragment))
    return re.sub(r'\s+', ' ', html.unescape(re.sub(r'<[^>]+>', '', fragment))).strip()


@dataclass
class Heading:
    level: int
    id: str
    html: str         # the heading's content, without its anchor link
    doc: bool         # an API entry written by show_doc


HEADING = re.compile(r'<h([1-6])((?:\s[^>]*)?)>(.*?)</h\1>', re.S)
ANCHOR = re.compile(r'<a class="anchor-link" href="[^"]*">[^<]*</a>')


def heading_ids(body: str) -> tuple[str, list[Heading]]:
    """Give every heading Pandoc's id and an anchor link. show_doc's entries claim their plain ids first: nbdev links
    `fid` to `eval.html#fid`, which must reach the function, not a section titled "FID" that comes before it."""
    found = []
    for m in HEADING.finditer(body):
        content = ANCHOR.sub('', m.group(3)).strip()
        doc = 'doc-entry' in (re.findall(r'class="([^"]*)"', m.group(2)) or [''])[0].split()
        found.append(Heading(int(m.group(1)), '', content, doc))
    taken = set()
    for claim_first in (True, False):
        for h in found:
            if h.doc != claim_first: continue
            h.id = base = slug(strip_tags(h.html))
            n = 0
            while h.id in taken: n, h.id = n + 1, f'{base}-{n + 1}'
            taken.add(h.id)
    headings = iter(found)
    def rewrite(m):
        h = next(headings)
        attrs = re.sub(r'\s+id="[^"]*"', '', m.group(2))
        return f'<h{h.level} id="{h.id}"{attrs}>{h.html}<a class="anchor-link" href="#{h.id}">¶</a></h{h.level}>'
    return HEADING.sub(rewrite, body), found


def toc_html(headings: list[Heading], depth: int, title: str) -> str:
    "Quarto's `toc`: the page's h2 (and, to `toc-depth`, h3...) headings as nested links; empty if there are none."
    items = [h for h in headings if 2 <= h.level <= depth]
    if not items: return ''
    out, open_levels = [], []
    for h in items:
        while open_levels and open_levels[-1] > h.level: out.append('</li></ul>'); open_levels.pop()
        if open_levels and open_levels[-1] == h.level: out.append('</li>')
        else: out.append('<ul>'); open_levels.append(h.level)
        cls = ' class="toc-doc"' if h.doc else ''
        out.append(f'<li><a href="#{h.id}"{cls}>{html.escape(strip_tags(h.html))}</a>')
    out += ['</li></ul>'] * len(open_levels)
    return f'<div class="toc-title">{html.escape(title)}</div>' + ''.join(out)


def search_sections(body: str, page: 'Page') -> dict:
    "One page of the search index: its title, address and the text of each section, with the id of its heading."
    heads = list(re.finditer(r'<h([1-6]) id="([^"]*)"[^>]*>(.*?)</h\1>', body, re.S))
    starts = [(0, '', '')] + [(m.end(), m.group(2), strip_tags(ANCHOR.sub('', m.group(3)))) for m in heads]
    ends = [m.start() for m in heads] + [len(body)]
    sections = [dict(id=hid, heading=head, text=strip_tags(body[a:b])) for (a, hid, head), b in zip(starts, ends)]
    return dict(title=page.title, url=page.out, sections=[x for x in sections if x['heading'] or x['text']])


def relative(target: str, page: Page) -> str:
    "A link from `page` to the site path `target`."
    return posixpath.relpath(target, posixpath.dirname(page.out) or '.')


def fix_links(body: str, page: Page, by_src: dict, site_url: str) -> str:
    "Point links at the site's own pages: notebook names become page names, the live site's URLs become relative."
    def local(m):
        src = posixpath.normpath(posixpath.join(posixpath.dirname(page.src), html.unescape(m.group(1))))
        return f'href="{relative(by_src[src].out, page)}{m.group(2) or ""}"' if src in by_src else m.group(0)
    body = re.sub(r'href="([^":#]+\.(?:ipynb|qmd|md))(#[^"]*)?"', local, body)
    if site_url:
        live = rf'href="{re.escape(site_url.rstrip("/"))}/([^"#]*)'
        body = re.sub(live, lambda m: f'href="{relative(m.group(1) or "index.html", page)}', body)
    return body


API_LINK = re.compile(r'<a href="([^"#]*)#([^"]+)"><code>(.*?)</code></a>', re.S)


def api_link_targets(body: str, page: Page, ids: dict[str, set]) -> str:
    """Mend nbdev's links to API names whose id no page has: nbdev indexes methods written inside a class body
    (`Learner.fit`) and private names, but show_doc gives them no entry. A method's link goes to its class's entry;
    a link with no entry to go to is dropped, leaving the name in code."""
    def mend(m):
        href, frag, name = m.groups()
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page.out), href)) if href else page.out
        if target not in ids or frag in ids[target]: return m.group(0)
        owner = frag.rsplit('.', 1)[0]
        if '.' in frag and owner in ids[target]: return f'<a href="{href}#{owner}"><code>{name}</code></a>'
        return f'<code>{name}</code>'
    return API_LINK.sub(mend, body)


# ---------------------------------------------------------------- sidebar

def nav_tree(entries: list, pages: list[Page]) -> list[tuple]:
    "Quarto's `sidebar.contents` as (text, page or URL, children); `auto` lists every page."
    by_src = {p.src: p for p in pages}
    tree = []
    for e in entries:
        if e == 'auto' or (isinstance(e, dict) and 'auto' in e): tree += [(p.title, p, []) for p in pages]
        elif isinstance(e, str): tree.append(nav_leaf(e, None, by_src))
        elif 'section' in e:
            head = nav_leaf(e['href'], e['section'], by_src)[1] if e.get('href') else None
            tree.append((e['section'], head, nav_tree(as_list(e.get('contents')), pages)))
        elif 'href' in e: tree.append(nav_leaf(e['href'], e.get('text'), by_src))
    return tree


def nav_leaf(href: str, text: str | None, by_src: dict) -> tuple:
    "One sidebar link: a page of the site, or an outside URL."
    if re.match(r'^[a-z]+:', href): return (text or href, href, [])
    src = posixpath.normpath(href)
    if src not in by_src:
        raise DocsError(f'the sidebar lists {href!r}, but no page has that source. Pages: {", ".join(sorted(by_src))}. '
                        'Regenerate nbs/sidebar.yml with nbdev_sidebar, or fix it by hand if custom_sidebar is set.')
    return (text or by_src[src].title, by_src[src], [])


def sidebar_html(tree: list[tuple], page: Page) -> str:
    "The sidebar for `page`: nested lists of links, the current page marked."
    items = []
    for text, target, kids in tree:
        label = html.escape(text)
        if isinstance(target, Page):
            cur = ' aria-current="page"' if target is page else ''
            link = f'<a href="{html.escape(relative(target.out, page))}"{cur}>{label}</a>'
        elif target: link = f'<a href="{html.escape(target)}">{label}</a>'
        else: link = f'<span>{label}</span>'
        sub = sidebar_html(kids, page) if kids else ''
        items.append(f'<li{" class=section" if kids else ""}>{link}{sub}</li>')
    return '<ul>' + ''.join(items) + '</ul>'


# ---------------------------------------------------------------- files

def find_katex(explicit: str | None = None) -> Path:
    "A KaTeX distribution folder: --katex, $KATEX_DIR, Debian's libjs-katex, or npm's node_modules/katex/dist."
    for c in filter(None, [explicit, os.environ.get('KATEX_DIR'), '/usr/share/javascript/katex',
                           ROOT/'node_modules/katex/dist']):
        d = Path(c)
        if all((d/f).exists() for f in ('katex.min.js', 'katex.min.css', 'fonts')) and auto_render(d): return d
        if c == explicit: raise DocsError(f'--katex {c}: no katex.min.js, katex.min.css, fonts/, auto-render\n{KATEX_HELP}')
    raise DocsError(KATEX_HELP)


def auto_render(katex: Path) -> Path | None:
    "KaTeX's auto-render script (minified in npm's build, plain in Debian's)."
    return next((p for p in (katex/'contrib/auto-render.min.js', katex/'contrib/auto-render.js') if p.exists()), None)


def copy_static(out: Path, katex: Path):
    "Our CSS and scripts, Pygments' colours and a copy of KaTeX into `out/_static`."
    static = out/'_static'
    (static/'katex').mkdir(parents=True)
    for f in ('site.css', 'math.js', 'site.js'): shutil.copy(ASSETS/f, static/f)
    (static/'pygments.css').write_text(HtmlFormatter(style='default').get_style_defs('.highlight'))
    for f in ('katex.min.js', 'katex.min.css'): shutil.copy(katex/f, static/'katex'/f)
    shutil.copy(auto_render(katex), static/'katex/auto-render.js')
    shutil.copytree(katex/'fonts', static/'katex/fonts')


def copy_files(proc: Path, out: Path):
    "Everything in `_proc` that is not a page or a config file (stylesheets, images) into `out`."
    for p in proc.rglob('*'):
        rel = p.relative_to(proc)
        if p.is_dir() or p.suffix in PAGE_SUFFIXES or p.name in CONFIG_FILES or rel.parts[0].startswith('.'):
            continue
        (out/rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, out/rel)


def empty_out(out: Path):
    "Remove the previous site, refusing to touch a folder that this tool did not write."
    if not out.exists(): return
    if any(out.iterdir()) and not (out/'_static/math.js').exists():
        raise DocsError(f'refusing to empty {out}: it does not look like a site written by tools/docs.py')
    shutil.rmtree(out)


# ---------------------------------------------------------------- the site

def site_info(cfg: dict, pages: list[Page]) -> dict:
    "What every page's shell shows: site title, home page, repository, extra stylesheets, contents, search."
    web, fmt = cfg.get('website', {}), cfg.get('format', {}).get('html', {})
    home = next((p.out for p in pages if p.out == 'index.html'), pages[0].out)
    search = web.get('search', True) is not False and web.get('navbar', {}).get('search', True) is not False
    return dict(title=web.get('title', ROOT.name), home=home, repo_url=web.get('repo-url', ''),
                site_url=web.get('site-url', ''), description=web.get('description', ''), css=as_list(fmt.get('css')),
                toc=fmt.get('toc', False) is True, toc_depth=int(fmt.get('toc-depth', 3)),
                toc_title=fmt.get('toc-title', 'On this page'), search=search, repo=repo_links(cfg))


def sidebar_contents(cfg: dict) -> list:
    "The `website.sidebar.contents` of the site (the first sidebar if there are several), default `auto`."
    sidebar = cfg.get('website', {}).get('sidebar', {})
    if isinstance(sidebar, list): sidebar = sidebar[0] if sidebar else {}
    return as_list(sidebar.get('contents') if isinstance(sidebar, dict) else None) or ['auto']


def check_pages(pages: list[Page], proc: Path):
    "Fail on a site with no pages or with two pages written to one file."
    if not pages: raise DocsError(f'no pages in {proc}: are there notebooks in nbs/?')
    clash = sorted({p.out for p in pages if sum(q.out == p.out for q in pages) > 1})
    if clash: raise DocsError(f'several pages would be written to {", ".join(clash)}: give them distinct output-file')


def render(proc: Path, out: Path, katex: Path) -> list[Page]:
    "Write the site for the pages in `proc` into `out`."
    cfg = site_config(proc, nbs_path())
    for line in unsupported(cfg): print(f'docs: warning: _quarto.yml {line}', file=sys.stderr)
    pages = [load_page(proc, p) for p in find_pages(proc)]
    check_pages(pages, proc)
    tree = nav_tree(sidebar_contents(cfg), pages)
    empty_out(out)
    copy_static(out, katex)
    copy_files(proc, out)
    site, ex, by_src = site_info(cfg, pages), exporter(), {p.src: p for p in pages}
    shell = jinja2.Environment(loader=jinja2.FileSystemLoader(ASSETS), autoescape=True).get_template('page.html.j2')
    bodies, index = {}, []
    for page in pages:
        if n := count_errors(page.nb): print(f'warning: {page.src} has {n} saved error output(s)', file=sys.stderr)
        prepare_notebook(page.nb)
        body, headings = heading_ids(ex.from_notebook_node(page.nb)[0])
        bodies[page.out] = fix_links(body, page, by_src, site['site_url']), headings
    ids = {name: set(re.findall(r'\sid="([^"]+)"', body)) for name, (body, _) in bodies.items()}
    for page in pages:
        body, headings = bodies[page.out]
        body = api_link_targets(body, page, ids)
        if site['search']: index.append(search_sections(body, page))
        root = relative('.', page) + '/' if '/' in page.out else ''
        subtitle = inline_markdown(page.description) if page.description else ''
        dest = out/page.out
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(shell.render(page=page, site=site, root=root, body=body, sidebar=sidebar_html(tree, page),
                                     subtitle=subtitle, summary=strip_tags(subtitle) or site['description'],
                                     toc=toc_html(headings, site['toc_depth'], site['toc_title']) if site['toc'] else ''))
    if site['search']: (out/'search.json').write_text(json.dumps(dict(pages=index), ensure_ascii=False))
    (out/'.nojekyll').write_text('')  # GitHub Pages: serve the files as they are, `_static/` included
    return pages


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--no-proc', action='store_true', help='render the existing _proc/ without running nbdev first')
    ap.add_argument('--out', type=Path, default=ROOT/'_docs', help='where to write the site (default _docs/)')
    ap.add_argument('--katex', help='a KaTeX dist folder (default: $KATEX_DIR, Debian libjs-katex, npm katex)')
    ap.add_argument('--workers', type=int, default=1, help='processes for nbdev (0: in this process)')
    args = ap.parse_args(argv)
    out, t0 = args.out.resolve(), time.perf_counter()
    try:
        katex = find_katex(args.katex)
        proc = ROOT/'_proc' if args.no_proc else process_notebooks(args.workers)
        if not proc.is_dir(): raise DocsError(f'{proc} does not exist: run once without --no-proc')
        t1 = time.perf_counter()
        pages = render(proc, out, katex)
    except DocsError as e:
        print(f'docs: {e}', file=sys.stderr)
        return 1
    for p in pages: print(f'  {p.out:<28} {p.title}')
    print(f'wrote {len(pages)} pages to {out} (nbdev {t1 - t0:.1f}s, render {time.perf_counter() - t1:.1f}s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
