"""The documentation's examples run, and the site's sources hold together.

Every page of ``docs/`` with ```` ```python ```` blocks is one test: its blocks run top to
bottom in one namespace (``docs/examples.py``, the runner the MkDocs build uses too), and
every figure the page shows must be one its code saved. The rest checks the pieces of the
build: the runner, the hooks, the Griffe extension, the navigation and the API index.
``make test`` then builds the site with ``mkdocs build --strict``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
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


# --- what a learner fresh from the notes looks for -----------------------------------------


def page_text(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def run_blocks_until(page: str, *names: str) -> dict[str, object]:
    """Run ``page``'s blocks in order, in one namespace, until it defines ``names``."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    for block in examples.blocks(page_text(page)):
        if block.run:
            exec(compile(block.code, page, "exec"), namespace)
        if all(name in namespace for name in names):
            return namespace
    raise AssertionError(f"{page}: no example defines {names}")


def test_the_split_page_shows_the_notes_70_15_15_beside_60_20_20() -> None:
    page = "guide/train-dev-test.md"
    assert "70/15/15" in page_text(page) and "60/20/20" in page_text(page)
    code = "\n".join(block.code for block in examples.blocks(page_text(page)) if block.run)
    assert "ratios=(0.7, 0.15, 0.15)" in code


def test_own_backward_in_the_notes_layout_passes_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The NumPy example is written as the notes write it, examples as columns
    (``X`` is ``(n_x, m)``, ``W[l]`` is ``(n[l], n[l-1])``, ``Z1 = W1 @ X + b1``), and the
    checker passes it and fails its planted bug."""
    monkeypatch.chdir(tmp_path)
    page = "guide/own-backward.md"
    found = run_blocks_until(page, "network", "params", "X")
    capsys.readouterr()
    X, params, network = found["X"], found["params"], found["network"]
    assert isinstance(X, np.ndarray) and isinstance(params, dict) and callable(network)
    n_x, m = X.shape
    assert m > n_x, f"X must be (n_x, m), examples as columns; it is {X.shape}"
    units = [n_x]
    for layer in (1, 2):
        W, b = params[f"W{layer}"], params[f"b{layer}"]
        assert W.shape == (W.shape[0], units[-1]), f"W{layer} must be (n[l], n[l-1])"
        assert b.shape == (W.shape[0], 1), f"b{layer} must be (n[l], 1)"
        units.append(W.shape[0])
    assert "W1 @ X + b1" in page_text(page)
    assert dr.gradcheck.check(network, params).passed
    planted = dr.gradcheck.check(lambda p: network(p, bug=True), params)
    assert not planted.passed and set(planted.failed_blocks) == {"W1", "b1"}


def test_the_dropout_code_on_the_page_is_the_layer() -> None:
    """The notes' inverted dropout, forward and backward, as the page writes it in NumPy,
    gives the numbers dr.Dropout gives with the same random generator."""
    found = run_blocks_until("guide/dropout.md", "dropout_forward", "dropout_backward")
    forward, backward = found["dropout_forward"], found["dropout_backward"]
    assert callable(forward) and callable(backward)
    rng = np.random.default_rng(0)
    for keep_prob in (0.5, 0.8, 1.0):
        a3 = rng.standard_normal((40, 7))
        dA3 = rng.standard_normal(a3.shape)
        layer = dr.Dropout(keep_prob)
        params, _ = layer.build(a3.shape[1], rng, np.dtype(np.float64))
        ours, d3 = forward(a3, keep_prob, np.random.default_rng(3))
        theirs, cache = layer.forward(params, a3, training=True, rng=np.random.default_rng(3))
        np.testing.assert_array_equal(ours, theirs)
        expected, _ = layer.backward(params, dA3, cache)
        np.testing.assert_array_equal(backward(dA3, d3, keep_prob), expected)


def test_every_command_is_shown_in_the_guide(hooks: ModuleType) -> None:
    """Each subcommand is mentioned on some guide page, and each experiment runs on one."""
    usage = re.search(r"\{([\w,-]+)\}", hooks._help())
    assert usage is not None
    guide = {page: page_text(page) for page in PAGES if page.startswith("guide/")}
    guide_text = "\n".join(guide.values())
    missing = [c for c in usage[1].split(",") if f"deeprecipe {c}" not in guide_text]
    assert not missing, f"no guide page mentions deeprecipe {missing}"
    from deeprecipe import experiments

    code = "\n".join(block.code for text in guide.values()
                     for block in examples.blocks(text) if block.run)
    for name in experiments.NAMES:
        assert f'main(["experiment", "{name}"])' in code, f"no page runs experiment {name}"


def tune_examples() -> list[tuple[str, str]]:
    """``(where, code)`` of every runnable block of the site and the README that tunes."""
    sources = {page: page_text(page) for page in PAGES}
    sources["README.md"] = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(f"{name}:{block.line}", block.code) for name, text in sources.items()
            for block in examples.blocks(text) if block.run and "tune(" in block.code]


def is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in (
        "__name__ == '__main__'", "'__main__' == __name__")


def test_tune_examples_are_whole_scripts_with_all_their_work_guarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """tune's workers import the calling script again: an example that calls it is a
    script of its own (no names from earlier blocks) whose top level holds only imports and
    definitions besides ``if __name__ == "__main__":``, so a worker's import does nothing."""
    found = tune_examples()
    assert {where.split(":")[0] for where, _ in found} >= {"guide/basic-recipe.md", "README.md"}
    monkeypatch.chdir(tmp_path)
    for where, code in found:
        tree = ast.parse(code)
        loose = [ast.unparse(node).splitlines()[0] for node in tree.body
                 if not isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                          ast.ClassDef)) and not is_main_guard(node)]
        assert not loose, f"{where}: outside the __main__ guard: {loose}"
        guards = [node for node in tree.body if is_main_guard(node)]
        assert any("tune(" in ast.unparse(guard) for guard in guards), where
        script = tmp_path / "script.py"
        script.write_text(code + "\n", encoding="utf-8")
        undefined = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "F821",
             "--output-format", "concise", str(script)],
            capture_output=True, text=True, check=False,
        )
        assert undefined.returncode == 0, f"{where} uses earlier blocks' names:\n" + (
            undefined.stdout)
        exec(compile(code, where, "exec"), {"__name__": "__mp_main__"})  # a worker's import
        assert capsys.readouterr().out == "", f"{where}: a worker's import printed"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"], where
