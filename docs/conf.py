"""Sphinx configuration of the skfer documentation.

The example gallery runs the scripts in ``examples/`` (``plot_*.py``). How many
of them run is set by the ``SKFER_DOCS_GALLERY`` environment variable:

- ``all`` (default): execute every example;
- ``fast``: execute only the examples in ``FAST_EXAMPLES`` (seconds on a CPU);
  the others are rendered as code without output;
- ``none``: execute no example.

Examples that read FER2013 find it through ``SKFER_DATA`` (see ``docs/build.sh``).
Nothing is fetched from the network: there is no intersphinx mapping.
"""

import os
import re

# sphinx-gallery links the names of every example, run or not, by looking them up in their
# modules; HalvingGridSearchCV (plot_halving_search.py) is there only once this is imported.
from sklearn.experimental import enable_halving_search_cv  # noqa: F401

import skfer

project = "skfer"
author = "The skfer developers"
copyright = "2025, The skfer developers"
release = skfer.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

# API pages: one generated page per public object, in docs/gen_modules/ (git-ignored).
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Example gallery.
FAST_EXAMPLES = [
    "plot_pixel_strings.py",
    "plot_saliency.py",
]
GALLERY_MODES = ("all", "fast", "none")
gallery_mode = os.environ.get("SKFER_DOCS_GALLERY", "all")
if gallery_mode not in GALLERY_MODES:
    raise ValueError(
        f"SKFER_DOCS_GALLERY={gallery_mode!r}; choose one of {', '.join(GALLERY_MODES)}."
    )
fast_pattern = "|".join(re.escape(name) for name in FAST_EXAMPLES)
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": rf"/({fast_pattern})$" if gallery_mode == "fast" else "/plot_",
    "plot_gallery": gallery_mode != "none",
    "doc_module": ("skfer",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skfer": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "write_computation_times": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skfer {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 5,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
# Single pages have no section navigation: no left sidebar for them.
html_sidebars = {page: [] for page in ("index", "install", "quickstart", "benchmarks", "changelog", "model_card")}


# Docstrings inherited from scikit-learn and scikeras cross-reference pages
# of their own sites (``:ref:`metadata_routing```, ``:term:`meta-estimator```);
# render those roles as plain text, as nothing is fetched from other sites.
_FOREIGN_ROLE = re.compile(r":(?:ref|term):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _plain_foreign_roles(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if module.split(".")[0] == "skfer":
        return
    lines[:] = [_FOREIGN_ROLE.sub(lambda m: m.group(1) or m.group(2), line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_foreign_roles, priority=400)
