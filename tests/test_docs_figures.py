"""Each measured figure stands in one hand-written documentation page.

Figures about the shipped models (their accuracy, per-class figures,
calibration, the speed of the default path, robustness) live in
``docs/model_card.md``; figures comparing recipes, architectures, engines and
settings live in ``docs/benchmarks.rst``, which points to the raw results in
``benchmarks/results/``. Every other page says it in words and links there, so
a figure that changes is changed in one place.
"""

import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The hand-written pages: generated ones (the gallery, API pages, results files) are not.
PAGES = sorted(
    [*ROOT.glob("docs/*.rst"), *ROOT.glob("docs/*.md"), *ROOT.glob("docs/user_guide/*.rst"), ROOT / "README.md"]
)

#: A number that is not part of a longer one (a version such as 3.15.1 or 0.10.14 is not a
#: figure), with the unit that may follow it.
_NUMBER = re.compile(r"(?<![\w.])(\d+)\.(\d+)(?![\w.]*\d)(\s?(?:%|ms\b|x\b))?")

#: Figures that stand in two pages although they are different measurements that happen to
#: be written alike, each with the pages it stands in and why.
COINCIDENCES = {
    "0.454": (
        {"docs/benchmarks.rst", "docs/model_card.md"},
        "sgd_nesterov_gpu's macro F1 (a recipe compared) and crop_cosine_k3_relu_40ep's Fear recall",
    ),
    "0.535": (
        {"docs/benchmarks.rst", "docs/model_card.md"},
        "mild_aug_gpu's macro F1 (a recipe compared) and flip_shift's Neutral precision",
    ),
    "0.638": (
        {"docs/benchmarks.rst", "docs/model_card.md"},
        "flip_only_gpu's macro F1 (a recipe compared) and crop_cosine_k3_relu_40ep's Neutral F1; "
        "also the aligned upright accuracy in the detector benchmark, on the same page",
    ),
    "0.578": (
        {"docs/benchmarks.rst", "docs/model_card.md"},
        "the default model's accuracy on faces cut back out of photos (detector benchmark) "
        "and crop_cosine_k3_relu's Sad F1",
    ),
}


def measured_figures(text):
    """The measured figures written in ``text``, each as a key equal for equal figures.

    A measured figure is a percentage with one or two decimals (68.74%), a decimal with
    at least three significant decimals (0.6707, 0.638: not a parameter such as 0.1, 0.01,
    0.001 or 2e-3), or a time in milliseconds or a speed ratio with two decimals
    (1.17 ms, 3.62x). A percentage and a decimal of the same value are the same figure
    (67.07% and 0.6707); a whole percentage (a target such as 70%) is none.
    """
    figures = set()
    for match in _NUMBER.finditer(text):
        whole, decimals, unit = match.group(1), match.group(2), (match.group(3) or "").strip()
        value = Decimal(f"{whole}.{decimals}")
        significant = len(decimals.lstrip("0"))
        if unit == "%" and (len(decimals) <= 2 or significant >= 3):
            figures.add(str((value / 100).normalize()))
        elif unit in ("ms", "x") and len(decimals) == 2:
            figures.add(f"{value} ms" if unit == "ms" else f"{value}x")
        elif not unit and significant >= 3:
            figures.add(str(value.normalize()))
    return figures


def pages_by_figure():
    pages = defaultdict(set)
    for page in PAGES:
        for figure in measured_figures(page.read_text(encoding="utf-8")):
            pages[figure].add(page.relative_to(ROOT).as_posix())
    return pages


@pytest.mark.parametrize(
    "text, expected",
    [
        ("68.74% on PublicTest", {"0.6874"}),
        ("0.6707 and 67.07% once more", {"0.6707"}),
        ("AUC 0.638, recall 0.500", {"0.638", "0.5"}),
        ("3.0% of the predictions, 7.8%", {"0.03", "0.078"}),
        ("1.17 ms (p50), 3.62x fer's", {"1.17 ms", "3.62x"}),
        ("the 0.6957.", {"0.6957"}),
    ],
)
def test_measured_figures_are_found(text, expected):
    assert measured_figures(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "learning rate 0.1, weight decay 0.01, 1e-3 or 2e-3",
        "the top 0.001% of each activation's values, lr 0.0005",
        "Keras 3.15.1, MediaPipe 0.10.14, TensorFlow 2.21",
        "at least 70% within 70 epochs, 0.47 point, 0.56 times",
        "1,409 faces/s, 699,367 parameters, 48x48",
    ],
)
def test_parameters_versions_and_targets_are_not_figures(text):
    assert measured_figures(text) == set()


def test_the_pages_hold_figures():
    # The check below means something only while the homes hold their figures.
    found = pages_by_figure()
    for home in ("docs/model_card.md", "docs/benchmarks.rst"):
        assert sum(home in pages for pages in found.values()) > 20, home


def test_each_measured_figure_stands_in_one_page():
    repeated = {
        figure: sorted(pages)
        for figure, pages in pages_by_figure().items()
        if len(pages) > 1 and COINCIDENCES.get(figure, (None,))[0] != pages
    }
    assert not repeated, (
        "These measured figures stand in more than one page; keep each in docs/model_card.md "
        "(the shipped models) or docs/benchmarks.rst (comparisons) and link to it from the "
        f"others: {repeated}"
    )


def test_each_coincidence_still_holds():
    # An entry no longer needed would let a real copy of its figure pass unseen.
    found = pages_by_figure()
    for figure, (pages, _) in COINCIDENCES.items():
        assert found.get(figure) == pages, figure
