"""The documentation's examples run, and the site's sources hold together.

Every page of ``docs/`` with ```` ```python ```` blocks is one test: its blocks run top to
bottom in one namespace (``docs/examples.py``, the runner the MkDocs build uses too), and
every figure the page shows must be one its code saved. The rest checks the pieces of the
build: the runner, the hooks, the Griffe extension, the navigation and the API index.
``make test`` then builds the site with ``mkdocs build --strict``.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest
import yaml

import deeprecipe as dr

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SLOW_PAGES = {"guide/own-backward.md"}  # imports PyTorch and JAX: a few seconds


def load(name: str) -> ModuleType:
    """A Python file of docs/ as a module (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


examples = load("examples")
PAGES = sorted(
    page.relative_to(DOCS).as_posix()
    for page in DOCS.rglob("*.md")
    if examples.blocks(page.read_text(encoding="utf-8"))
)


@pytest.mark.parametrize(
    "page",
    [pytest.param(page, marks=[pytest.mark.slow] if page in SLOW_PAGES else [], id=page)
     for page in PAGES],
)
def test_page_examples_run_and_draw_its_figures(page: str, tmp_path: Path) -> None:
    path = DOCS / page
    run = examples.run_page(path, tmp_path)
    shown = set(examples.images(path.read_text(encoding="utf-8")))
    assert shown == set(run.files), (
        f"{page}: the figures shown must be exactly those its code saves; "
        f"shown {sorted(shown)}, saved {sorted(run.files)}"
    )


def test_page_code_is_clean(tmp_path: Path) -> None:
    """ruff on each page's code, blocks joined: ≤ 100 columns, no unused or undefined names
    (imports may follow the prose, and zip() needs no strict= in a walk-through)."""
    for page in PAGES:
        code = "\n\n".join(block.code for block in examples.blocks((DOCS / page).read_text()))
        (tmp_path / page.replace("/", "__").replace(".md", ".py")).write_text(code + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"),
         "--ignore", "E402,I001,B905", "--output-format", "concise", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_python_blocks_say_python() -> None:
    """Only ```python blocks run: a ```py or ```python3 block would silently not."""
    for page in DOCS.rglob("*.md"):
        fences = re.findall(r"^\s*```(\S*)", page.read_text(encoding="utf-8"), re.M)
        odd = [fence for fence in fences if fence.startswith("py") and fence != "python"]
        assert not odd, f"{page}: use ```python for examples, not {odd}"


def test_the_guide_pages_have_examples() -> None:
    guide = {p.relative_to(DOCS).as_posix() for p in (DOCS / "guide").glob("*.md")}
    assert guide - {"guide/index.md"} <= set(PAGES)


# --- the runner ----------------------------------------------------------------------------

PAGE = """# A page

```python
x = 2
print(x + 1)
```

<!-- docs: no-run -->
```python
raise SystemExit("not run")
```

Text.

```python
print(x * 10)
y = 1 / 0
```
"""


def test_runner_shares_one_namespace_skips_marked_blocks_and_names_the_line(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    found = examples.blocks(PAGE)
    assert [block.run for block in found] == [True, False, True]
    assert found[2].line == 16  # the block's first line of code
    with pytest.raises(examples.ExampleError, match=r"page\.md:17: .*ZeroDivisionError"):
        examples.run_page(page, tmp_path)
    page.write_text(PAGE.replace("y = 1 / 0", "y = 1"), encoding="utf-8")
    run = examples.run_page(page, tmp_path)
    assert run.outputs == ["3\n", "", "20\n"]


def test_runner_turns_warnings_into_errors(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nimport warnings\nwarnings.warn('careful')\n```\n",
                    encoding="utf-8")
    with pytest.raises(examples.ExampleError, match="UserWarning: careful"):
        examples.run_page(page, tmp_path)


# --- the hooks -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    sys.path.insert(0, str(DOCS))  # as MkDocs does while it loads a hook
    try:
        return load("hooks")
    finally:
        sys.path.remove(str(DOCS))


def test_outputs_are_shown_under_their_blocks(hooks: ModuleType) -> None:
    markdown = "```python\nprint(1)\n```\n\nText.\n\n```python\nx = 1\n```\n"
    shown = hooks._with_outputs(markdown, ["1\n", ""])
    assert shown == ('```python\nprint(1)\n```\n\n```text title="Output"\n1\n```'
                     "\n\nText.\n\n```python\nx = 1\n```\n")


def test_cli_page_has_every_command(hooks: ModuleType) -> None:
    reference = hooks.cli_reference()
    usage = reference.split("\n", 4)[3]  # deeprecipe --help's first line
    commands = re.search(r"\{([\w,-]+)\}", usage)
    assert commands is not None and {"run", "gradcheck"} <= set(commands[1].split(","))
    for command in commands[1].split(","):
        assert f"## `deeprecipe {command}`\n\n```text\nusage: deeprecipe {command}" in reference


# --- the Griffe extension --------------------------------------------------------------------


@pytest.fixture(scope="module")
def rst() -> ModuleType:
    return load("griffe_rst")


@pytest.fixture(scope="module")
def package() -> object:
    import griffe

    return griffe.load("deeprecipe", search_paths=[str(ROOT / "src")])


def test_roles_become_links_to_documented_objects(rst: ModuleType, package: object) -> None:
    model = package["model"]  # type: ignore[index]
    text = rst.to_markdown("See :func:`~deeprecipe.diagnose` and :class:`Nowhere`.", model)
    assert ('<autoref identifier="deeprecipe.diagnostics.bias_variance.diagnose" optional>'
            "<code>diagnose</code></autoref>") in text
    assert "<code>Nowhere</code>" in text and "identifier=\"Nowhere\"" not in text


def test_literal_blocks_tables_titles_and_terms(rst: ModuleType, package: object) -> None:
    docstring = "\n".join([
        "Example::",
        "",
        "    x = 1",
        "",
        "A title",
        "-------",
        "",
        "=====  ===========  ====",
        "name   draws         note",  # one column right of the border, as it happens
        "=====  ===========  ====",
        "``a``  a value that  x",
        "       runs over",  # a continuation line
        "``b``  ``sqrt(2/n)`` he",  # text running into the gap before the next column
        "=====  ===========  ====",
        "",
        "``term``",
        "    its definition",
    ])
    text = rst.to_markdown(docstring, package)
    assert "Example:\n\n```python\nx = 1\n```" in text
    assert "**A title**" in text
    assert "| name | draws | note |" in text
    assert "| ``a`` | a value that runs over | x |" in text
    assert "| ``b`` | ``sqrt(2/n)`` | he |" in text
    assert "``term``\n:   its definition" in text


# --- the site's structure ------------------------------------------------------------------


def nav_pages(entries: object) -> set[str]:
    if isinstance(entries, str):
        return {entries}
    if isinstance(entries, dict):
        return set().union(*(nav_pages(value) for value in entries.values()))
    if isinstance(entries, list):
        return set().union(*(nav_pages(entry) for entry in entries))
    return set()


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert nav_pages(config["nav"]) == pages


def test_the_api_index_lists_every_public_name() -> None:
    index = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    missing = [name for name in dr.__all__ if f"`dr.{name}`" not in index]
    assert not missing, f"docs/api/index.md does not list {missing}"
    modules = [name for name in dr.__all__ if isinstance(getattr(dr, name), ModuleType)]
    for name in modules:
        assert f"::: deeprecipe.{name}" in (DOCS / "api" / f"{name}.md").read_text()


def test_the_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The README's Python blocks, top to bottom in one namespace, as a newcomer pastes
    them; the tune's budget is cut from 30 trials to 3 to keep the test short."""
    monkeypatch.chdir(tmp_path)  # the tune writes runs/…, the data section model/
    namespace: dict[str, object] = {"__name__": "__main__"}  # as a script the reader runs
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = [block for block in examples.blocks(readme) if block.run]
    assert len(found) >= 4
    with warnings.catch_warnings():  # digits has constant pixels: the user sees that warning
        warnings.simplefilter("ignore", dr.data.ConstantFeatureWarning)
        for block in found:
            code = block.code.replace("budget=30", "budget=3")
            exec(compile(code, f"README.md:{block.line}", "exec"), namespace)
    assert "dense_1.W" in capsys.readouterr().out  # the gradient check's table printed
