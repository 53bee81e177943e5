"""MkDocs hooks: run every page's examples at build time, and write the CLI page.

- ``on_files`` runs each page's Python blocks (:mod:`examples`, the same runner as
  ``tests/test_docs.py``) and adds the figures they save to the site next to the page, so a
  figure can never be older than the code shown above it. An example that raises fails the
  build.
- ``on_page_markdown`` shows each block's printed output under it, and fills the CLI page
  with ``deeprecipe <command> --help`` as the installed ``deeprecipe`` prints it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

import examples  # docs/examples.py: MkDocs puts this folder on sys.path while loading hooks

CLI_MARKER = "<!-- cli-help -->"
HELP_WIDTH = "100"

log = logging.getLogger("mkdocs.hooks.examples")
_outputs: dict[str, list[str]] = {}


def on_files(files: Files, config: Any) -> Files:
    _outputs.clear()
    for page in files.documentation_pages():
        if page.abs_src_path is None:  # a page another plugin generated
            continue
        path = Path(page.abs_src_path)
        if not any(b.run for b in examples.blocks(path.read_text(encoding="utf-8"))):
            continue
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as workdir:
            try:
                run = examples.run_page(path, Path(workdir))
            except examples.ExampleError as error:
                raise PluginError(f"{error} (see the traceback above)") from error
        log.info(f"ran the examples of {page.src_uri} in {time.perf_counter() - started:.1f} s")
        _outputs[page.src_uri] = run.outputs
        folder = page.src_uri.rpartition("/")[0]
        for name, content in run.files.items():
            src_uri = f"{folder}/{name}" if folder else name
            if files.get_file_from_path(src_uri) is not None:
                raise PluginError(f"{page.src_uri}: its examples saved {name}, which another "
                                  f"page's examples or a file in docs/ already provides")
            files.append(File.generated(config, src_uri, content=content))
    return files


def on_page_markdown(markdown: str, page: Page, config: Any, files: Files) -> str:
    outputs = _outputs.get(page.file.src_uri)
    if outputs:
        markdown = _with_outputs(markdown, outputs)
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    return markdown


def _with_outputs(markdown: str, outputs: list[str]) -> str:
    """Insert each block's printed output, as a text block titled "Output", after it."""
    pieces, start = [], 0
    for block, output in zip(examples.blocks(markdown), outputs, strict=True):
        pieces.append(markdown[start : block.end])
        start = block.end
        if output.strip():
            pieces.append(f'\n\n```text title="Output"\n{output.rstrip()}\n```')
    pieces.append(markdown[start:])
    return "".join(pieces)


def _help(*args: str) -> str:
    """What ``deeprecipe *args --help`` prints: the console script's ``main``, in process."""
    from deeprecipe.cli import main

    stdout = io.StringIO()
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH  # argparse wraps to the terminal's width
    try:
        with contextlib.redirect_stdout(stdout), contextlib.suppress(SystemExit):
            main([*args, "--help"])
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    text = stdout.getvalue().rstrip()
    if not text.startswith("usage: deeprecipe"):
        raise PluginError(f"`deeprecipe {' '.join(args)} --help` printed no usage:\n{text}")
    return text


def cli_reference() -> str:
    """One section per subcommand with its ``--help``, the subcommands read from
    ``deeprecipe --help``'s usage line (``{run,gradcheck,...}``)."""
    top = _help()
    found = re.search(r"\{([\w,-]+)\}", top)
    if not found:
        raise PluginError(f"no subcommands found in `deeprecipe --help`:\n{top}")
    sections = [f"## `deeprecipe`\n\n```text\n{top}\n```"]
    for command in found[1].split(","):
        sections.append(f"## `deeprecipe {command}`\n\n```text\n{_help(command)}\n```")
    return "\n\n".join(sections)
