"""Run the Python examples of a documentation page, top to bottom, in one namespace.

Used twice, the same way: by ``tests/test_docs.py`` (every page is a test) and by the
MkDocs hook in ``hooks.py``, which shows each block's printed output under it and puts the
figures the page's code saves into the site. A figure on a page is therefore always the one
its code just drew.

A page's examples are its fenced ````` ```python ````` blocks. They run in a fresh working
directory (files they save, e.g. ``fig.savefig("weights.png")``, land there), with
matplotlib's Agg backend, every warning turned into an error (as in the test suite) and BLAS
on one thread: the examples are small, and BLAS threads fighting over a busy CPU make them
many times slower. A block that must not run is preceded by the line
``<!-- docs: no-run -->``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

NO_RUN = "<!-- docs: no-run -->"
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```python[^\n]*\n(?P<code>.*?)^(?P=indent)```[ ]*$", re.M | re.S
)
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<src>[^)\s]+)")
FIGURE_SUFFIXES = (".png", ".svg")


@dataclass(frozen=True)
class Block:
    """One ```` ```python ```` block: its code, its line in the page and where it ends."""

    code: str
    line: int  # 1-based line of the first code line
    end: int  # offset in the page just after the closing fence
    run: bool


@dataclass
class PageRun:
    """What running a page produced: each block's printed output and the files saved."""

    outputs: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


class ExampleError(RuntimeError):
    """A page's example raised: the message names the page and the line."""


def blocks(markdown: str) -> list[Block]:
    """The page's Python blocks in order."""
    found = []
    for match in FENCE.finditer(markdown):
        before = markdown[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        indent = len(match["indent"])
        code = "\n".join(line[indent:] for line in match["code"].splitlines())
        line = markdown.count("\n", 0, match.start("code")) + 1
        found.append(Block(code, line, match.end(), before != NO_RUN))
    return found


def images(markdown: str) -> list[str]:
    """The local images the page embeds (``![alt](name.png)``), as written."""
    return [m["src"] for m in IMAGE.finditer(markdown) if "://" not in m["src"]]


def run_page(page: Path, workdir: Path) -> PageRun:
    """Execute ``page``'s blocks in ``workdir``; raise :class:`ExampleError` on the first
    exception, with the Markdown file and line in the traceback."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from threadpoolctl import threadpool_limits

    result = PageRun()
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            result.outputs = _run_blocks(page)
        for path in sorted(workdir.rglob("*")):
            if path.is_file() and path.suffix in FIGURE_SUFFIXES:
                result.files[path.relative_to(workdir).as_posix()] = path.read_bytes()
    finally:
        os.chdir(previous)
        plt.close("all")
    return result


def _run_blocks(page: Path) -> list[str]:
    namespace: dict[str, object] = {"__name__": "__main__"}  # as a script the reader runs
    outputs = []
    for block in blocks(page.read_text(encoding="utf-8")):
        if not block.run:
            outputs.append("")
            continue
        # Pad so that tracebacks give the line in the Markdown file.
        code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
        stdout = io.StringIO()
        with warnings.catch_warnings(), contextlib.redirect_stdout(stdout):
            warnings.simplefilter("error")
            try:
                exec(code, namespace)
            except Exception as error:
                line = _failing_line(error, str(page)) or block.line
                raise ExampleError(f"{page}:{line}: the example raised "
                                   f"{type(error).__name__}: {error}") from error
        outputs.append(stdout.getvalue())
    return outputs


def _failing_line(error: BaseException, filename: str) -> int | None:
    """The page's line that the traceback last passed through."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line
