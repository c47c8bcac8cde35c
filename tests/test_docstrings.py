"""The examples in skfer's docstrings and documentation pages run and show what they claim.

Every module's doctests run as one test named after the module, and every
page of ``docs/`` with ``>>>`` examples as one test named after the page, so
a failure says where it is. Examples that need FER2013 or files on disk are
marked ``# doctest: +SKIP`` in their docstring.
"""

import doctest
import importlib
import pkgutil
from pathlib import Path

import matplotlib
import pytest

import skfer

matplotlib.use("Agg")

OPTIONFLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _module_names():
    names = [skfer.__name__]
    for info in pkgutil.walk_packages(skfer.__path__, prefix=f"{skfer.__name__}."):
        names.append(info.name)
    return sorted(names)


def _missing_dependency(name):
    """The package module ``name`` needs and cannot import (an extra not installed), or None."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name.split(".")[0] == skfer.__name__:
            raise
        return exc.name
    return None


def _doc_pages():
    if not DOCS.is_dir():
        return []
    pages = sorted(DOCS.rglob("*.rst")) + sorted(DOCS.rglob("*.md"))
    ignored = {"_build", "auto_examples", "gen_modules", "_templates"}
    return [p for p in pages if not ignored & set(p.relative_to(DOCS).parts)]


def _public_objects():
    """(qualified name, object) for every name in ``__all__`` of skfer and its subpackages."""
    found = {}
    for name in _module_names():
        if _missing_dependency(name):
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if callable(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", (f"{name}.{attr}", obj))
    return sorted(found.values(), key=lambda item: item[0])


def _run(tests, where):
    """Run doctests; fail with the runner's report (expected vs got) if any example fails."""
    import matplotlib.pyplot as plt

    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    plt.close("all")
    result = runner.summarize(verbose=False)
    if result.failed:
        pytest.fail(f"{result.failed} of {result.attempted} doctest examples of {where} failed:\n"
                    + "".join(report), pytrace=False)
    return result


@pytest.mark.parametrize("module_name", _module_names())
def test_module_doctests(module_name):
    missing = _missing_dependency(module_name)
    if missing:
        pytest.skip(f"{module_name} needs {missing}, from an extra that is not installed")
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module_name)
    if not any(test.examples for test in tests):
        pytest.skip(f"{module_name} has no docstring examples")
    _run(tests, module_name)


@pytest.mark.parametrize("page", _doc_pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_doc_page_examples(page):
    text = page.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, page.name, str(page), 0)
    if not test.examples:
        pytest.skip(f"docs/{page.relative_to(DOCS)} has no >>> examples")
    _run([test], f"docs/{page.relative_to(DOCS)}")


@pytest.mark.parametrize("obj", [pytest.param(obj, id=name) for name, obj in _public_objects()])
def test_public_object_has_examples(obj):
    docstring = obj.__doc__ or ""
    assert "Examples\n" in docstring and ">>>" in docstring, (
        f"{obj.__module__}.{obj.__qualname__} has no numpydoc Examples section with a "
        ">>> example."
    )
