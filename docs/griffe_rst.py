"""A Griffe extension: show deeprecipe's reStructuredText-flavoured docstrings as Markdown.

The docstrings are read in the source as plain text with a few reST habits, which
mkdocstrings (Markdown) would show literally. Before rendering, this rewrites:

- roles (``:func:`diagnose```, ``:class:`~deeprecipe.Sequential```) into code that links
  to the object's API entry when the reference documents it (plain code otherwise);
- literal blocks (a paragraph ending in ``::`` and an indented block) into fenced code;
- simple tables (``=====  =====`` borders) into Markdown tables;
- section titles underlined with ``---`` into bold lines (the numpydoc sections
  ``Parameters``, ``Attributes``, ... are left to mkdocstrings' numpy parser);
- definition lists (a term line, then its indented description) into Markdown ones.

Only what is shown changes: the source keeps its docstrings.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const):`([^`]+)`")
BORDER = re.compile(r"^=+(?: +=+)+ *$")
UNDERLINE = re.compile(r"^(?:-{3,}|={3,}) *$")
NUMPY_SECTIONS = {
    "Parameters", "Other Parameters", "Returns", "Yields", "Receives", "Raises", "Warns",
    "Attributes", "Methods", "See Also", "Notes", "References", "Examples", "Warnings",
}


class RestructuredText(griffe.Extension):
    """Rewrite the docstrings of a package once it is loaded (cross-references need the
    whole tree)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = to_markdown(obj.docstring.value, obj)


def _walk(obj: griffe.Object, seen: set[str] | None = None) -> list[griffe.Object]:
    seen = set() if seen is None else seen
    found = [obj]
    seen.add(obj.path)
    for member in obj.members.values():
        if member.is_alias or member.path in seen:
            continue
        found += _walk(member, seen)  # type: ignore[arg-type]
    return found


def to_markdown(text: str, obj: griffe.Object) -> str:
    lines = text.splitlines()
    out: list[str] = []
    numpy_section = False  # numpydoc's "name : type" items are left to its parser
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::") and _indented_block_follows(lines, i + 1):
            head = line.rstrip()[:-2].rstrip()
            i, block = _take_indented(lines, i + 1)
            doctest = block.lstrip().startswith(">>>")
            code = block.splitlines() if doctest else ["```python", *block.splitlines(), "```"]
            if numpy_section:  # after numpydoc sections, an example must be one too
                out += ["", "Examples", "--------", *code]
            else:
                out += [head + ":" if head else "", "", *(["```pycon"] if doctest else []),
                        *code, *(["```"] if doctest else [])]
            continue
        if BORDER.match(line):
            i, table = _table(lines, i)
            out += [_roles(row, obj) for row in table]
            continue
        if (i + 1 < len(lines) and line.strip() and not line.startswith(" ")
                and UNDERLINE.match(lines[i + 1])
                and len(lines[i + 1].strip()) == len(line.strip())):
            if line.strip() in NUMPY_SECTIONS:
                numpy_section = True
                out += [line, lines[i + 1]]
            else:
                out += [f"**{_roles(line.strip(), obj)}**", ""]
            i += 2
            continue
        if not numpy_section and _is_term(lines, i):
            i, definition = _definition(lines, i, obj)
            out += definition
            continue
        out.append(_roles(line, obj))
        i += 1
    return "\n".join(out)


# --- literal blocks --------------------------------------------------------------------


def _indented_block_follows(lines: list[str], i: int) -> bool:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i < len(lines) and lines[i].startswith(" ")


def _take_indented(lines: list[str], i: int) -> tuple[int, str]:
    """The indented block from line ``i`` (blank lines inside kept), dedented."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    block = []
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
        block.append(lines[i])
        i += 1
    while block and not block[-1].strip():
        block.pop()
        i -= 1
    return i, textwrap.dedent("\n".join(block))


# --- simple tables ---------------------------------------------------------------------


def _table(lines: list[str], i: int) -> tuple[int, list[str]]:
    """A reST simple table whose top border is line ``i``, as Markdown rows."""
    end, borders = i + 1, [i]
    while end < len(lines) and len(borders) < 3:
        if BORDER.match(lines[end]):
            borders.append(end)
            if len(borders) == 2 and not (end + 1 < len(lines) and lines[end + 1].strip()):
                break  # no header: the second border closes the table
        end += 1
    end = min(end + 1, len(lines))
    body_lines = [line for line in lines[i:end] if line.strip() and not BORDER.match(line)]
    starts = _column_starts(lines[i], body_lines)
    rows: list[list[str]] = []
    header = 0
    for k in range(i + 1, end):
        line = lines[k]
        if k in borders and len(borders) == 3 and k == borders[1]:
            header = len(rows)
        if not line.strip() or BORDER.match(line):
            continue
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        if rows and not cells[0]:  # a continuation line: the first column is empty
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    if header:
        titles = [" ".join(column).strip() for column in zip(*rows[:header], strict=True)]
    else:
        titles = [""] * len(starts)
    table = ["", "| " + " | ".join(titles) + " |", "|" + "---|" * len(starts)]
    table += ["| " + " | ".join(_escape_pipes(cell) for cell in row) + " |"
              for row in rows[header:]]
    return end, [*table, ""]


def _escape_pipes(cell: str) -> str:
    """Escape ``|`` outside code spans (inside them Markdown's tables leave it alone)."""
    parts = re.split(r"(`+[^`]*`+)", cell)
    return "".join(p if p.startswith("`") else p.replace("|", "\\|") for p in parts)


def _column_starts(border: str, rows: list[str]) -> list[int]:
    """Where each column starts: at its border's ``=`` run, or a little later when a row's
    text runs into the gap before it (hand-made tables are often off by one)."""
    starts = [m.start() for m in re.finditer(r"=+", border)]
    adjusted = [starts[0]]
    for start in starts[1:]:
        while start < len(border) and any(len(r) > start - 1 and r[start - 1] != " "
                                          for r in rows):
            start += 1
        adjusted.append(start)
    return adjusted


# --- definition lists ------------------------------------------------------------------


def _is_term(lines: list[str], i: int) -> bool:
    line = lines[i]
    return (bool(line.strip()) and not line.startswith(" ")
            and (i == 0 or not lines[i - 1].strip() or lines[i - 1].startswith(" "))
            and i + 1 < len(lines) and lines[i + 1].startswith("    ")
            and bool(lines[i + 1].strip())
            and not line.lstrip().startswith(("-", "*", ">>>")))


def _definition(lines: list[str], i: int, obj: griffe.Object) -> tuple[int, list[str]]:
    term = _roles(lines[i], obj)
    i, body = _take_indented(lines, i + 1)
    described = [_roles(line, obj) for line in body.splitlines()]
    return i, [term, ":   " + described[0], *("    " + line for line in described[1:]), ""]


# --- roles -----------------------------------------------------------------------------


def _roles(line: str, obj: griffe.Object) -> str:
    return ROLE.sub(lambda match: _reference(match[1], obj), line)


def _reference(target: str, obj: griffe.Object) -> str:
    short = target.startswith("~")
    name = target.lstrip("~")
    shown = name.rsplit(".", 1)[-1] if short else name.lstrip(".")
    path = _resolve(name, obj)
    code = f"<code>{shown}</code>"
    return f'<autoref identifier="{path}" optional>{code}</autoref>' if path else code


def _resolve(name: str, obj: griffe.Object) -> str | None:
    """The documented path of ``name`` as seen from ``obj``'s docstring, if it exists."""
    module = obj if obj.is_module else obj.module
    scopes = [obj, obj.parent, module, module.parent, module.package]
    if name.startswith("."):
        candidates = [f"{scope.path}{name}" for scope in scopes if scope is not None]
    else:
        candidates = [name, *(f"{scope.path}.{name}" for scope in scopes if scope is not None)]
    for path in candidates:
        try:
            found = obj.modules_collection[path]
        except (KeyError, ValueError, griffe.AliasResolutionError):
            continue
        try:
            return str(found.final_target.path) if found.is_alias else str(found.path)
        except griffe.AliasResolutionError:
            return str(found.path)
    return None
