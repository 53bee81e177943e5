"""The report: files, a self-contained page, the JSON summary, the plots, and a real browser."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.data.split import sample_positions
from deeprecipe.diagnostics.views import MAX_POINTS, plot_points, views
from deeprecipe.diagnostics.yardstick import Reference, Yardstick
from deeprecipe.report import figures, headline, jsonable, summary_dict, write_report
from deeprecipe.report import plots as report_plots
from deeprecipe.report.html import render_report, report_context
from deeprecipe.report.style import new_figure, png_bytes, themed
from deeprecipe.run.result import DataSummary, RunResult
from report_fixtures import run_result

PLOTS = ("learning_curves", "gradcheck", "gradient_norms", "confusion")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits() -> RunResult:
    return run_result("digits")


@pytest.fixture(scope="module")
def moons() -> RunResult:
    return run_result("moons")


@pytest.fixture(scope="module")
def digits_report(digits: RunResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_report(digits, tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="module")
def moons_report(moons: RunResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_report(moons, tmp_path_factory.mktemp("moons"))


class Resources(HTMLParser):
    """Every ``src``/``href`` the page refers to, and every ``<img>``'s ``src``."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data") and value is not None:
                self.links.append(value)
                if tag == "img" and name == "src":
                    self.images.append(value)


def parse(path: Path) -> Resources:
    parser = Resources()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# --- files ---------------------------------------------------------------------------------------


def test_write_report_writes_page_summary_and_each_plot(digits_report: dict[str, Path]) -> None:
    assert set(digits_report) == {"report", "summary", *PLOTS}
    for name in PLOTS:
        path = digits_report[name]
        assert path.name == f"{name}.png"
        assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert digits_report["report"].name == "report.html"
    assert digits_report["summary"].name == "summary.json"
    folder = digits_report["report"].parent
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temp files


def test_two_d_data_gets_a_decision_boundary_and_digits_does_not(
    digits_report: dict[str, Path], moons_report: dict[str, Path]
) -> None:
    assert "decision_boundary" in moons_report
    assert "confusion" in moons_report
    assert "decision_boundary" not in digits_report
    html = moons_report["report"].read_text(encoding="utf-8")
    assert 'id="boundary"' in html
    assert 'id="boundary"' not in digits_report["report"].read_text(encoding="utf-8")


def test_the_report_only_reads_data_it_never_runs_the_model(moons: RunResult) -> None:
    # the decision regions were computed by the pipeline (result.views): without the model
    # and the splits the report draws the same figures
    assert moons.views is not None and moons.views.regions is not None
    assert moons.views.regions.proba.shape == (200, 200, 2)
    without = dataclasses.replace(moons, model=None, splits=None)
    assert sorted(figures(without)) == sorted(figures(moons))
    assert "decision_boundary" in figures(without)


@pytest.mark.slow
def test_rewriting_a_report_replaces_the_files(digits: RunResult, tmp_path: Path) -> None:
    first = write_report(digits, tmp_path)
    second = write_report(digits, tmp_path)
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first.values())


# --- the page ------------------------------------------------------------------------------------


def test_page_is_self_contained(digits_report: dict[str, Path]) -> None:
    page = parse(digits_report["report"])
    external = [link for link in page.links if not (link.startswith("data:")
                                                    or link.startswith("#"))]
    assert external == []
    assert "script" not in page.tags and "link" not in page.tags
    text = digits_report["report"].read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)
    assert "@import" not in text and "url(" not in text


def test_every_plot_is_embedded_byte_for_byte(
    digits_report: dict[str, Path], moons_report: dict[str, Path]
) -> None:
    for written in (digits_report, moons_report):
        images = parse(written["report"]).images
        embedded = [base64.b64decode(src.split(",", 1)[1]) for src in images]
        pngs = [path.read_bytes() for name, path in written.items() if path.suffix == ".png"]
        assert len(images) == len(pngs)
        assert sorted(embedded) == sorted(pngs)


def test_page_answers_first_then_shows_every_section(
    digits: RunResult, digits_report: dict[str, Path]
) -> None:
    html = digits_report["report"].read_text(encoding="utf-8")
    order = ['id="verdict"', 'id="data"', 'id="model"', 'id="curves"', 'id="diagnosis"',
             'id="gradcheck"', 'id="flow"', 'id="confusion"', 'id="notes"']
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert digits.diagnosis is not None
    assert headline(digits).title in html
    caveat = report_context(digits, {})["caveat"]
    assert (caveat is not None) == (digits.best_epoch is not None and digits.diagnosis.high_bias
                                    and digits.best_epoch < digits.epochs_run - 1)
    assert caveat is None or caveat.text in html
    for block in digits.gradchecks["init"].blocks:
        assert block in html


def test_epochs_are_counted_from_1_and_the_caveat_needs_an_earlier_epoch_kept(
        digits: RunResult) -> None:
    last = digits.epochs_run - 1
    assert digits.diagnosis is not None
    biased = dataclasses.replace(digits.diagnosis, high_bias=True)
    stopped = dataclasses.replace(digits, best_epoch=0, stopped_epoch=last,
                                  stop_reason="patience", diagnosis=biased)
    text = " ".join(render_report(stopped, {}).split())
    assert f"{last + 1} epochs; early stopping ended training (the dev cost stopped " \
        "improving)" in text
    assert "The weights of epoch 1, the best on the dev set, are kept" in text
    context = report_context(stopped, {})
    caveat = context["caveat"]
    assert caveat.code == "early_stopping_cost" and caveat.values["epoch"] == 1
    assert caveat.values["train_error"] == biased.train_error
    assert caveat.text in text  # in its own box, and nowhere else: said once
    assert text.count("couples bias and variance") == 1
    assert "early_stopping_cost" not in [remark.code for remark in context["remarks"]]
    unbiased = dataclasses.replace(stopped, diagnosis=dataclasses.replace(biased,
                                                                          high_bias=False))
    assert report_context(unbiased, {})["caveat"] is None

    ran_out = dataclasses.replace(digits, best_epoch=last, stopped_epoch=last,
                                  stop_reason="max_epochs")
    text = " ".join(render_report(ran_out, {}).split())
    assert f"The weights of epoch {last + 1}, the best on the dev set" in text
    assert report_context(ran_out, {})["caveat"] is None  # it changed nothing


def with_yardstick(result: RunResult, best_dev: float) -> RunResult:
    """``result`` diagnosed against a yardstick whose best reference, a linear model,
    reaches the dev error ``best_dev``."""
    yardstick = Yardstick((
        Reference("constant", "DummyClassifier(strategy='prior')", 0.9, 0.9, 0.001),
        Reference("linear", "LogisticRegression(C=1)", 0.01, best_dev, 0.2),
        Reference("boosting", "HistGradientBoostingClassifier(max_iter=50)", 0.0,
                  best_dev + 0.01, 0.3),
    ), n_train=1079, n_train_total=1079, n_dev=359, regression=False, seconds=0.5)
    diagnosis = dr.diagnose(result.errors["train"], result.errors["dev"], yardstick,
                            test_error=result.errors["test"])
    return dataclasses.replace(result, diagnosis=diagnosis, yardstick=yardstick,
                               bayes_error=diagnosis.bayes_error)


def legend(result: RunResult) -> list[str]:
    """The labels of the learning curves' error panel."""
    return figures(result)["learning_curves"].axes[1].get_legend_handles_labels()[1]


def test_the_report_shows_each_reference_beside_the_network(digits: RunResult) -> None:
    result = with_yardstick(digits, 0.03)
    assert result.diagnosis is not None and result.diagnosis.bias_source == "yardstick"
    text = " ".join(render_report(result, {}).split())
    assert "The yardstick: reference models on the same split" in text
    assert "fitted on the 1,079 training rows and measured on the 359 dev rows" in text
    for model in ("DummyClassifier(strategy=&#39;prior&#39;)", "LogisticRegression(C=1)",
                  "HistGradientBoostingClassifier(max_iter=50)"):
        assert f"<code>{model}</code>" in text
    network = (f"<b>the network</b></td><td>this run's, inference mode</td> <td class=\"num\">"
               f"<b>{digits.errors['train']:.2%}</b>")
    assert network in text
    assert text.count("the yardstick</span>") == 1  # the best reference, marked
    numbers = dict((name, value) for value, name in report_context(result, {})["numbers"])
    assert numbers["train − yardstick"] == f"{digits.errors['train'] - 0.03:.2%}"
    assert "yardstick (Bayes error at most)</td><td class=\"num\">3.00%" in text
    assert "(linear: LogisticRegression(C=1))" in headline(result).detail
    assert "yardstick 3.00%: linear (LogisticRegression)" in legend(result)
    summary = summary_dict(result)
    assert summary["yardstick"]["best"] == "linear" and summary["bayes_error"] == 0.03
    assert summary["diagnosis"]["bias_source"] == "yardstick"


def test_the_headline_says_whether_the_bias_is_shown_against_the_yardstick(
        digits: RunResult) -> None:
    underfit = dataclasses.replace(digits, errors={**digits.errors, "train": 0.10, "dev": 0.12})
    shown = headline(with_yardstick(underfit, 0.05)).detail  # 5 points above: shown
    hidden = headline(with_yardstick(underfit, 0.11)).detail  # below it: not shown
    assert "train − yardstick 5.00% (avoidable bias shown)" in shown
    assert "train − yardstick -1.00% (the bias is not shown to be avoidable)" in hidden
    assert "avoidable bias -" not in hidden  # never a negative "avoidable bias"
    silent = headline(with_yardstick(digits, 0.03)).detail  # train 0.37%: no bias to show
    assert "shown" not in silent


def test_the_bayes_error_says_where_it_came_from(digits: RunResult) -> None:
    assert digits.diagnosis is not None and digits.diagnosis.bias_source == "given"  # 0.0
    text = render_report(digits, {})
    assert "given (--bayes-error)" in text and "The yardstick:" not in text
    assert "Bayes error 0.00% (given)" in legend(digits)
    assert "(given)" in headline(digits).detail
    zero = dataclasses.replace(digits, diagnosis=dr.diagnose(digits.errors["train"],
                                                             digits.errors["dev"]))
    assert zero.diagnosis is not None and zero.diagnosis.bias_source == "zero"
    assert "none given: read against a perfect score" in render_report(zero, {})
    assert "Bayes error 0.00% (none given)" in legend(zero)


def test_no_bias_bar_is_drawn_below_the_yardstick(digits: RunResult) -> None:
    above = with_yardstick(digits, digits.errors["train"] + 0.05)  # train below the yardstick
    labels = legend(above)
    assert not any(label.startswith("avoidable bias") for label in labels)
    assert any(label.startswith("avoidable bias") for label in legend(digits))


def test_text_is_escaped(digits: RunResult) -> None:
    hostile = dataclasses.replace(digits, name="<script>alert(1)</script>",
                                  notes=["<img src=x onerror=alert(1)>"])
    html = render_report(hostile, {})
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- summary.json --------------------------------------------------------------------------------


def test_summary_json_has_the_run_in_plain_json(
    digits: RunResult, digits_report: dict[str, Path]
) -> None:
    summary = json.loads(digits_report["summary"].read_text(encoding="utf-8"))
    assert digits.diagnosis is not None
    for key in ("format_version", "deeprecipe_version", "name", "headline", "config", "data",
                "comparisons", "model", "errors", "diagnosis", "gradcheck", "early_stopping",
                "history", "gradient_flow", "confusion", "seconds", "notes"):
        assert key in summary, key
    assert summary["errors"] == pytest.approx(digits.errors)
    assert summary["data"]["split_sizes"] == {"train": 1079, "dev": 359, "test": 359}
    assert summary["diagnosis"]["verdict"] == digits.diagnosis.verdict
    assert [a["action"] for a in summary["diagnosis"]["advice"]] == digits.diagnosis.actions
    assert set(summary["gradcheck"]) == {"init", "trained"}
    blocks = summary["gradcheck"]["init"]["blocks"]
    assert list(blocks) == list(digits.gradchecks["init"].blocks)
    assert blocks["dense_1.W"]["verdict"] == "great" and blocks["dense_1.W"]["passed"]
    assert summary["early_stopping"]["best_epoch"] == digits.best_epoch
    assert summary["early_stopping"]["stop_reason"] == digits.stop_reason
    assert np.asarray(summary["confusion"]).sum() == 359
    assert summary["comparisons"]["train vs dev"]["verdict"] == "indistinguishable"
    assert "features" not in summary["comparisons"]["train vs dev"]
    assert summary["headline"]["level"] in ("good", "warning", "problem", "unknown")
    # version 2: findings (the diagnosis's remarks, the notes) are {code, values, text}
    assert summary["format"] == "deeprecipe-summary" and summary["format_version"] == 2


def test_jsonable_turns_numpy_and_non_finite_values_into_json() -> None:
    value = {"a": np.float32(0.5), "b": np.arange(3), "c": (1, math.nan), 4: math.inf,
             "p": Path("x"), "d": DataSummary("x", "binary", 1, 2, None, None, {})}
    converted = jsonable(value)
    assert converted["a"] == 0.5 and converted["b"] == [0, 1, 2]
    assert converted["c"] == [1, None] and converted["4"] is None and converted["p"] == "x"
    assert converted["d"]["task"] == "binary"
    json.dumps(converted, allow_nan=False)


# --- the headline --------------------------------------------------------------------------------


def test_a_failing_gradient_check_comes_before_everything(digits: RunResult) -> None:
    report = digits.gradchecks["trained"]
    broken_block = dataclasses.replace(report.blocks["dense_2.W"], verdict="worry",
                                       difference=3e-2)
    broken = dataclasses.replace(report, verdict="worry", difference=1e-2,
                                 blocks={**report.blocks, "dense_2.W": broken_block})
    result = dataclasses.replace(digits, gradchecks={**digits.gradchecks, "trained": broken})
    head = headline(result)
    assert head.level == "problem"
    assert "gradient" in head.title.lower()
    assert head.steps[0].action == "fix_gradients" and "dense_2.W" in head.steps[0].title
    assert summary_dict(result)["headline"]["level"] == "problem"



def test_the_gradient_check_card_shows_each_verdict_with_the_block_it_comes_from(
    digits: RunResult,
) -> None:
    # the difference over θ reads great (2e-08) where one block reads look closer: the card
    # and the command line's summary name that block and its difference, so that they never
    # read "look closer (2.0e-08)"
    report = digits.gradchecks["trained"]
    closer = dataclasses.replace(report.blocks["dense_1.b"], verdict="look closer",
                                 difference=6.9e-5)
    checked = dataclasses.replace(report, verdict="look closer", difference=2e-8,
                                  blocks={**report.blocks, "dense_1.b": closer})
    result = dataclasses.replace(digits, gradchecks={"trained": checked})
    card = next(c for c in headline(result).checks if c.name == "gradient check")
    assert card.text == "trained: look closer (worst block dense_1.b, 6.9e-05)"
    from deeprecipe.cli.run import summary_lines
    assert ("gradient check: trained look closer (worst block dense_1.b, 6.9e-05)"
            in summary_lines(result, regression=False))

def test_healthy_run_says_so(digits: RunResult) -> None:
    good = dr.diagnose(0.01, 0.015)
    head = headline(dataclasses.replace(digits, diagnosis=good))
    assert head.level == "good" and head.steps[0].action == "stop"


def test_a_sparse_regression_result_still_reports(tmp_path: Path) -> None:
    """No model, no checks, no flow: the report shows what there is."""
    history = {"train_cost": [3.0, 2.0, 1.5], "train_eval_cost": [2.5, 1.8, 1.4],
               "train_error": [2.5, 1.8, 1.4], "dev_cost": [2.6, 2.0, 1.7],
               "dev_error": [2.6, 2.0, 1.7]}
    result = RunResult(
        name="regression", config={}, model_summary="(none)",
        data=DataSummary("table", "regression", 100, 3, None, None,
                         {"train": 60, "dev": 20, "test": 20}),
        history=history, errors={"train": 1.4, "dev": 1.7},
        diagnosis=dr.diagnose(1.4, 1.7, regression=True),
    )
    written = write_report(result, tmp_path)
    assert set(written) == {"report", "summary", "learning_curves"}
    html = written["report"].read_text(encoding="utf-8")
    assert ">1.4<" in html and "140.00%" not in html  # errors are MSEs, not rates


# --- plots ---------------------------------------------------------------------------------------


def test_plots_are_figures_and_nothing_is_left_open(digits: RunResult) -> None:
    import matplotlib.pyplot as plt

    drawn = figures(digits)
    assert set(drawn) == set(PLOTS)
    assert plt.get_fignums() == []  # drawn without pyplot: no global figure state


def test_gradcheck_plot_draws_an_uninformative_block_at_the_floor(digits: RunResult) -> None:
    report = digits.gradchecks["init"]
    zero = dataclasses.replace(report.blocks["dense_1.b"], difference=0.0,
                               verdict="uninformative")
    figure = report_plots.gradcheck_bars({"init": dataclasses.replace(
        report, blocks={**report.blocks, "dense_1.b": zero})})
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "0 (uninformative)" in texts
    assert {"1e-7 great", "1e-5 look closer", "1e-3 worry"} <= set(texts)


def test_gradient_norms_of_all_zero_gradients_say_so() -> None:
    figure = report_plots.gradient_norms({"dense_1": [0.0, 0.0], "dense_2": [0.0, 0.0]})
    assert "exactly 0" in figure.axes[0].texts[0].get_text()


def test_the_plots_draw_a_sample_of_a_big_training_part(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where the report samples: views.plot_points, whose points the decision boundary (and a
    # regression's predictions, on dev) draws: at most MAX_POINTS (10,000) rows of each part,
    # so a run's dev and test parts are whole and only a big training part is sampled.
    raw_X, y = dr.datasets.load("moons", n_samples=50_000, noise=0.25, seed=0)
    raw = dr.data.split(raw_X, y, seed=0)  # train 30,000, dev 10,000, test 10,000
    splits, scaler = dr.data.standardize_splits(raw)
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2, seed=0)
    model.standardizer = scaler
    monkeypatch.setattr(dr.data.Part, "X", property(lambda part: pytest.fail("part.X read")))
    drawn = views(model, splits, "binary", seed=3)
    assert [(p.label, len(p.X)) for p in drawn.points] == [
        ("train", MAX_POINTS), ("dev", 10_000), ("test", 10_000)]
    positions = sample_positions(30_000, MAX_POINTS, np.random.default_rng(3))
    rows = raw.train.indices[positions]  # the sample, in raw units (as predict takes them)
    np.testing.assert_allclose(drawn.points[0].X, raw_X[rows], atol=1e-9)
    np.testing.assert_array_equal(drawn.points[0].y, y[rows])
    np.testing.assert_allclose(drawn.points[1].X, raw_X[raw.dev.indices], atol=1e-9)
    assert drawn.regions is not None


def test_decision_boundary_points_are_in_raw_units(moons: RunResult) -> None:
    assert moons.model is not None and moons.splits is not None
    points = {p.label: p for p in plot_points(moons.model, moons.splits)}
    assert moons.views is not None  # the points the report draws are these
    np.testing.assert_array_equal(moons.views.points[0].X, points["train"].X)
    raw_X, _ = dr.datasets.load("moons", n_samples=400, noise=0.25, seed=0)
    np.testing.assert_allclose(points["train"].X, raw_X[moons.splits.train.indices], atol=1e-9)
    # the model takes raw inputs: its predictions at the points are its predictions on them
    np.testing.assert_array_equal(moons.model.predict(points["dev"].X),
                                  moons.model.predict(raw_X[moons.splits.dev.indices]))


# --- a real browser ------------------------------------------------------------------------------

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Debian's headless chromium through chromium-driver: Selenium Manager downloads
    nothing because both paths are given."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = ("chromium and chromium-driver are needed: apt-get install chromium "
                   "chromium-driver (.ci/run does)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--hide-scrollbars",
                     "--window-size=1200,1600", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any) -> bytes:
    """The whole page as PNG, through the DevTools protocol so it is not limited to the
    window (docs/screenshot.py takes the README's)."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    width, height = metrics["cssContentSize"]["width"], metrics["cssContentSize"]["height"]
    clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "clip": clip})
    return base64.b64decode(shot["data"])


@pytest.mark.slow
def test_report_opens_in_a_real_browser(
    browser: Any, digits_report: dict[str, Path], moons_report: dict[str, Path],
    tmp_path: Path
) -> None:
    for name, written in (("moons", moons_report), ("digits", digits_report)):
        browser.get(written["report"].as_uri())
        images = browser.execute_script(
            "return Array.from(document.images).map("
            "i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
        pngs = [path for path in written.values() if path.suffix == ".png"]
        assert len(images) == len(pngs)
        for complete, width, height, alt in images:
            assert complete and width > 0 and height > 0, alt
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        assert browser.find_element("css selector", "#verdict h2").text
        png = screenshot(browser)
        assert png.startswith(PNG_SIGNATURE)
        (tmp_path / f"{name}.png").write_bytes(png)


@pytest.mark.slow
def test_a_tunes_report_opens_in_a_real_browser(browser: Any, tmp_path: Path) -> None:
    from deeprecipe import cli

    assert cli.main(["tune", "--data", "breast_cancer", "--budget", "2", "--workers", "1",
                     "--output-dir", str(tmp_path), "--name", "t"]) == 0
    browser.get((tmp_path / "t" / "report.html").as_uri())
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert images and all(complete and width > 0 for complete, width in images)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert "ReLU, adam lr" in browser.find_element("css selector", "#chosen h2").text
    rows = browser.find_elements("css selector", "#trials tbody tr")
    assert len(rows) == 2


def test_a_label_the_font_lacks_renders_without_a_warning() -> None:
    # found by the CSV fuzz test: a column named "１" (a full-width digit) made matplotlib
    # warn "Glyph 65297 missing from font(s)" while the report's PNGs were drawn
    @themed
    def draw() -> bytes:
        figure, axes = new_figure(3, 2)
        axes.set_title("１ 猫 café")
        return png_bytes(figure)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert draw().startswith(b"\x89PNG")
