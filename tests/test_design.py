"""DESIGN.md's import rules, checked on the code: packages import one way, no private name crosses one."""

import ast
from pathlib import Path

SKFER = Path(__file__).resolve().parents[1] / "skfer"

#: The top-level modules that hold facts; every package may import them.
FACTS = {"_constants", "_labels", "_files", "_progress", "_hardware", "_validation"}

#: Package -> the packages it may import (DESIGN.md's table).
ALLOWED = {
    "preprocessing": set(),
    "models": set(),
    "reporting": {"inference"},
    "parallel": set(),
    "datasets": {"preprocessing"},
    "inference": {"models", "preprocessing"},
    "estimator": {"inference", "models", "preprocessing"},
    "pretrained": {"estimator", "inference", "models", "preprocessing"},
    "experiments": {"datasets", "estimator", "inference", "models", "preprocessing", "pretrained", "reporting"},
    "serve": {"inference", "preprocessing", "pretrained"},
}


def _imports():
    """(importing package, imported package, imported names, where) for every relative import across packages."""
    for path in sorted(SKFER.rglob("*.py")):
        parts = path.relative_to(SKFER).with_suffix("").parts
        if len(parts) < 2:
            continue  # top-level modules: the facts, the CLI and the lazy __init__
        package = parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                target = (node.module or "").split(".")[0] or node.names[0].name
                if target != package:
                    names = [alias.name for alias in node.names]
                    yield package, target, names, f"{path.relative_to(SKFER.parent)}:{node.lineno}"


def test_packages_import_only_those_below_them():
    wrong = [
        f"{where}: {package} imports {target}"
        for package, target, _, where in _imports()
        if target not in FACTS and target != "__version__" and target not in ALLOWED[package]
    ]
    assert wrong == []


def test_no_private_name_crosses_a_package():
    crossing = [
        f"{where}: {name} from {target}"
        for _, target, names, where in _imports()
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert crossing == []


def test_the_design_page_names_every_package():
    design = (SKFER.parent / "DESIGN.md").read_text()
    packages = {p.name for p in SKFER.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(ALLOWED)
    assert all(f"`{package}/`" in design for package in packages)


def _private_attribute_reads(path):
    """``obj._name`` reads in ``path`` on anything but ``self``, ``cls`` or an imported module."""
    tree = ast.parse(path.read_text())
    modules = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls", *modules})):
            yield f"{path.relative_to(SKFER.parent)}:{node.lineno}: {ast.unparse(node)}"


def test_only_the_estimators_own_routines_read_its_private_state():
    # FERClassifier's training and prediction routines live in its package and may call its
    # private methods; a routine elsewhere takes what it needs as arguments.
    reads = [
        read
        for path in sorted(SKFER.rglob("*.py"))
        if path.relative_to(SKFER).parts[0] != "estimator"
        for read in _private_attribute_reads(path)
    ]
    assert reads == []
