"""Fold the notebooks' code lines that are longer than 100 characters, and only those.

    python tools/fit_lines.py                 # every notebook in nbs/
    python tools/fit_lines.py nbs/05_homework.ipynb
    python tools/fit_lines.py --check         # list the long lines, change nothing (exit 1 if any)

Every other line keeps its hand-made layout. A long statement is joined into one line and folded again: after the
commas (and before `if`, `else`, `and`, `or`, `for`, `+`) inside brackets, the outermost bracket first, each
continuation lined up under the bracket it is in. A long string is cut at a space into adjacent literals, an
expression with no bracket around it gets one, a compound statement's body moves under its header and `a; b`
becomes two lines. A long one-line docstring becomes a wrapped triple-quoted one. A long comment is re-wrapped,
and a comment that ends a long line moves onto the lines above it: for a parameter, fastcore's docments reads a
comment above it as that parameter's documentation, so show_doc shows the same text. A cell is changed only if it
parses to the same syntax tree as before (docstrings compared word by word); what cannot be folded is listed.
Run `nbdev_export` and `nbdev_clean` afterwards, as after any notebook edit.
"""
import argparse
import ast
import io
import json
import sys
import textwrap
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 100


def long_lines(src):
    "1-based numbers of the lines of `src` over the limit"
    return [i for i, line in enumerate(src.split('\n'), 1) if len(line) > LIMIT]


def _tree(src):
    "the syntax tree of `src`, with the white space in bare strings (docstrings) made single spaces"
    tree = ast.parse(src)
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            node.value.value = ' '.join(node.value.value.split())
    return ast.dump(tree)


def same_tree(a, b):
    "whether `a` and `b` are the same program (a re-wrapped docstring counts as the same)"
    try: return _tree(a) == _tree(b)
    except SyntaxError: return False


def statements(src):
    "(first line, last line, tokens) of each logical line of `src` that spans brackets only"
    try: toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, SyntaxError): return
    cur = []
    for t in toks:
        if t.type in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING) and not cur: continue
        if t.type == tokenize.COMMENT and not cur: continue
        if t.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if cur: yield cur[0].start[0], cur[-1].end[0], cur
            cur = []
        else: cur.append(t)


def one_line(lines, a, b):
    "lines a..b (1-based) of a bracketed statement joined into one line"
    text = lines[a - 1].rstrip()
    for line in lines[a:b]:
        s = line.strip()
        text += s if text.endswith(('(', '[', '{')) or s.startswith((')', ']', '}')) else ' ' + s
    return text


COMPOUND = {'if', 'elif', 'else', 'for', 'while', 'with', 'def', 'try', 'except', 'finally', 'class'}


def _tokens(text):
    "the tokens of one logical line, without the layout ones"
    return [t for t in tokenize.generate_tokens(io.StringIO(text + '\n').readline)
            if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)]


def _depth0(text, ops):
    "columns of the operators `ops` outside brackets in `text`"
    depth, cols = 0, []
    for t in _tokens(text):
        if t.type != tokenize.OP: continue
        if t.string in '([{': depth += 1
        elif t.string in ')]}': depth -= 1
        elif depth == 0 and t.string in ops: cols.append(t.start[1])
    return cols


def split_statements(text):
    "`text` as its own lines: a compound header apart from its body, statements apart at `;`"
    indent = text[:len(text) - len(text.lstrip())]
    toks = _tokens(text)
    if toks and toks[0].string in COMPOUND:
        colon = _depth0(text, {':'})
        if colon and text[colon[0] + 1:].strip():
            body = text[colon[0] + 1:].strip()
            return [text[:colon[0] + 1]] + split_statements(indent + '    ' + body)
        return [text]
    semis = _depth0(text, {';'})
    if not semis: return [text]
    parts = [text[a + 1:b] for a, b in zip([-1] + semis, semis + [len(text)])]
    return [indent + p.strip() for p in parts if p.strip()]


def with_import_parens(text):
    "`from m import a, b` as `from m import (a, b)`, which can be folded"
    toks = _tokens(text)
    names = [t.string for t in toks]
    if names[:1] == ['from'] and 'import' in names and '(' not in names:
        k = toks[names.index('import')].end[1]
        return text[:k] + ' (' + text[k:].strip() + ')'
    return text


def split_string(tok, room):
    "the string token `tok` as two adjacent literals, the first at most `room` characters long, or None"
    s = tok.string
    q = next(i for i, ch in enumerate(s) if ch in '\'"')
    prefix, quote = s[:q], s[q]
    if s[q:q + 3] == quote * 3: return None
    body, fmt = s[q + 1:-1], 'f' in prefix.lower()
    cuts, braces = [], 0
    for i, ch in enumerate(body):
        if fmt and ch == '{': braces += 1
        if fmt and ch == '}': braces -= 1
        if len(prefix) + 2 + i + 1 > room: break
        if ch == ' ' and braces == 0 and body[:i].count('\\') % 2 == 0 and 0 < i < len(body) - 1: cuts.append(i + 1)
    # the latest cut that leaves a second literal of a dozen characters or more, else the latest
    best = max((c for c in cuts if len(body) - c >= 12), default=max(cuts, default=None))
    if best is None or best < 12: return None
    return f'{prefix}{quote}{body[:best]}{quote} {prefix}{quote}{body[best:]}{quote}'


def fill(text, tries=20):
    "`text`, one logical line, folded after commas and between strings at its bracket's column, or None"
    toks = _tokens(text)
    stack, breaks, opens, strings, depth = [], [], {}, [], {}
    for prev, t in zip([None] + toks, toks):
        c = t.start[1]
        if t.type == tokenize.STRING and stack:
            strings.append(t)
            if prev is not None and prev.type == tokenize.STRING:
                breaks.append(prev.end[1]); opens[prev.end[1]] = stack[-1]; depth[prev.end[1]] = len(stack)
        if stack and prev is not None and (t.string in ('if', 'else', 'and', 'or', 'for') or t.string == '+'):
            breaks.append(c); opens[c] = stack[-1]; depth[c] = len(stack)
        if t.type != tokenize.OP: continue
        if t.string in '([{': stack.append(c)
        elif t.string in ')]}': stack.pop()
        elif t.string == ',' and stack: breaks.append(c + 1); opens[c + 1] = stack[-1]
        depth[t.end[1]] = len(stack)
    breaks.sort()
    out, starts, s, indent = [], [], 0, 0  # starts: (one-line column, output offset) of each output line
    while indent + len(text) - s > LIMIT:
        fit = [p for p in breaks if p > s and indent + len(text[s:p].rstrip()) <= LIMIT]
        if not fit:  # split a string that starts before the limit (the last first), then fold again
            over = s + LIMIT - indent
            for t in sorted(strings, key=lambda t: -t.start[1]):
                if s <= t.start[1] < over and tries:
                    two = split_string(t, over - t.start[1])
                    if two: return fill(text[:t.start[1]] + two + text[t.end[1]:], tries - 1)
            return None
        p = min(fit, key=lambda p: (depth[p], -p))  # the outermost bracket first, then as far as it fits
        out.append(' ' * indent + text[s:p].rstrip() if out else text[s:p].rstrip())
        starts.append((s, indent - s))
        b = opens[p]
        indent = b + [o for st, o in starts if st <= b][-1] + 1
        s = p + len(text[p:]) - len(text[p:].lstrip())
    out.append(' ' * indent + text[s:] if out else text[s:])
    return '\n'.join(out)


def _closing(text):
    "the column of the bracket that closes the one `text` starts with"
    depth = 0
    for t in _tokens(text):
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}':
            depth -= 1
            if depth == 0: return t.start[1]


def wrap_expr(text):
    "`text` with the expression that makes it long put in brackets (which fold), or None"
    toks = _tokens(text)
    if not toks: return None
    first = toks[0].string
    if first in ('if', 'elif', 'while'):
        colon = _depth0(text, {':'})
        if not colon: return None
        a, b = toks[0].end[1], colon[0]
    elif first == 'return' and len(toks) > 1: a, b = toks[0].end[1], len(text)
    elif first == 'assert': a, b = toks[0].end[1], (_depth0(text, {','}) or [len(text)])[0]
    elif first not in COMPOUND and _depth0(text, {'='}): a, b = _depth0(text, {'='})[0] + 1, len(text)
    else: return None
    inner = text[a:b].strip()
    if inner.startswith('(') and _closing(inner) == len(inner) - 1: return None  # one bracket already
    return f'{text[:a]} ({inner}){text[b:]}'


def wrap_docstring(text):
    "a long one-line docstring as a triple-quoted one wrapped at the limit, or None"
    toks = _tokens(text)
    if len(toks) != 1 or toks[0].type != tokenize.STRING: return None
    s = toks[0].string
    quote = s[0]
    if quote not in '\'"' or s[:3] == quote * 3 or '\\' in s or s[-2] == quote: return None
    indent = text[:len(text) - len(text.lstrip())]
    lines = textwrap.wrap(s[1:-1], width=LIMIT - len(indent) - 3, break_long_words=False, break_on_hyphens=False)
    return '\n'.join((indent + quote * 3 if i == 0 else indent) + line for i, line in enumerate(lines)) + quote * 3


def _parts(tok):
    "prefix, quote and body of a one-line string token, or None for a triple-quoted one"
    s = tok.string
    q = next(i for i, ch in enumerate(s) if ch in '\'"')
    if s[q:q + 3] == s[q] * 3: return None
    return s[:q].lower(), s[q], s[q + 1:-1]


def merge_strings(text):
    "`text` with adjacent literals of the same kind joined (except after a newline), to be cut again where it fits"
    toks = _tokens(text)
    for prev, t in reversed(list(zip(toks, toks[1:]))):
        if prev.type == t.type == tokenize.STRING and prev.end[0] == t.start[0]:
            a, b = _parts(prev), _parts(t)
            if a and b and a[:2] == b[:2] and not a[2].endswith('\\n'):
                text = text[:prev.end[1] - 1] + b[2] + text[t.end[1] - 1:]
    return text


def stranded(text):
    "how many lines of a fold hold only a short end far to the right, such as `0.5)` under a deep bracket"
    return sum(len(line) - len(line.lstrip()) >= 40 and len(line.strip()) < 16 for line in text.split('\n'))


def fold(text):
    "one long logical line as lines within the limit where it can be, or None"
    lines = []
    for part in split_statements(text):
        part = merge_strings(with_import_parens(part)) if len(part) > LIMIT else part
        new = part
        if len(part) > LIMIT:  # the fold with the fewest stranded ends, then the fewest lines
            folds = [f for f in (fill(part), wrap_expr(part) and fill(wrap_expr(part))) if f]
            new = min(folds, key=lambda f: (stranded(f), f.count('\n'))) if folds else wrap_docstring(part)
        if new is None: return None
        lines.append(new)
    return '\n'.join(lines)


def with_fill(src):
    "`src` with each long bracketed statement folded by `fill` where it can be"
    lines = src.split('\n')
    done = []
    for a, b, toks in statements(src):
        if not any(len(lines[i - 1]) > LIMIT for i in range(a, b + 1)): continue
        if any(t.type == tokenize.COMMENT for t in toks): continue
        if any(t.type == tokenize.STRING and t.start[0] != t.end[0] for t in toks): continue
        if any(lines[i - 1].rstrip().endswith('\\') for i in range(a, b)): continue
        new = fold(one_line(lines, a, b))
        if new: done.append((a, b, new))
    for a, b, new in reversed(done): lines[a - 1:b] = new.split('\n')
    return '\n'.join(lines)


def comments(src):
    "{line number: column} of each comment token in `src`"
    try: toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, SyntaxError): return {}
    return {t.start[0]: t.start[1] for t in toks if t.type == tokenize.COMMENT}


def wrap_comment(indent, text, width=LIMIT):
    "`text` (without its `#`) as comment lines at `indent`, each within `width`"
    lines = textwrap.wrap(text.strip(), width=width - len(indent) - 2, break_long_words=False,
                          break_on_hyphens=False)
    return [f'{indent}# {line}' for line in lines]


def signature_lines(src):
    "lines of the signatures in `src` whose comment docments would lose if it moved up: all but one-parameter lines"
    try: tree = ast.parse(src)
    except SyntaxError: return set()
    keep = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
        a = node.args
        params = a.posonlyargs + a.args + a.kwonlyargs + [p for p in (a.vararg, a.kwarg) if p]
        for line in range(node.lineno, node.body[0].lineno):
            if line == node.lineno or sum(p.lineno == line for p in params) != 1: keep.add(line)
        keep.update(p.lineno for p in (a.vararg, a.kwarg) if p)  # docments gives their comment to the return
    return keep


def with_comments(src):
    "`src` with long comment lines re-wrapped, and the comment that ends a long line moved above it"
    found, out, keep = comments(src), [], signature_lines(src)
    for i, line in enumerate(src.split('\n'), 1):
        col = found.get(i)
        if len(line) <= LIMIT or col is None or line[col:].startswith('#|') or i in keep:
            out.append(line); continue
        code, text = line[:col].rstrip(), line[col + 1:]
        indent = line[:len(line) - len(line.lstrip())]
        if not code.strip(): out.extend(wrap_comment(indent, text))
        else: out.extend(wrap_comment(indent, text) + [code])
    return '\n'.join(out)


def fit(src):
    new = with_fill(with_comments(src))
    return new if new != src and same_tree(src, new) else src


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('notebooks', nargs='*', type=Path, help='notebooks to fold (default: nbs/*.ipynb)')
    p.add_argument('--check', action='store_true', help='only list the long lines; exit 1 if there are any')
    args = p.parse_args()
    nbs = args.notebooks or sorted((ROOT / 'nbs').glob('*.ipynb'))
    left = 0
    for nb in nbs:
        d = json.loads(nb.read_text())
        changed = False
        for k, cell in enumerate(d['cells']):
            if cell['cell_type'] != 'code': continue
            src = ''.join(cell['source'])
            if not args.check and long_lines(src):
                new = fit(src)
                if new != src:
                    cell['source'] = new.splitlines(keepends=True)
                    src, changed = new, True
            for i in long_lines(src):
                left += 1
                if args.check: print(f'{nb.name} cell {k} line {i}: {len(src.split(chr(10))[i-1])} characters')
        if changed: nb.write_text(json.dumps(d, indent=1, ensure_ascii=False) + '\n')
    print(f'{left} code lines over {LIMIT} characters')
    sys.exit(1 if args.check and left else 0)


if __name__ == '__main__': main()
