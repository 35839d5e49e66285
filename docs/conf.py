"""Sphinx configuration: PyData theme, numpydoc API reference, sphinx-gallery examples, Markdown user guide (MyST).

Build from the repository root with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``; every
warning (a broken cross-reference, a malformed docstring, an example that raises) fails the build.
"""

from __future__ import annotations

import os
import warnings

import gaussmix

project = "gaussmix"
author = "the gaussmix developers"
copyright = "2026, the gaussmix developers"  # noqa: A001 (Sphinx's name)
release = gaussmix.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
root_doc = "index"

# The Markdown user guide: headings get anchors so pages can link to sections; ``$...$`` is left alone.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: one page per public name, generated from the docstrings (numpydoc format).
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections already give types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# The gallery: every examples/*.py runs during the build; a script that raises fails it. Set
# GAUSSMIX_GALLERY_PATTERN (a regular expression on the file path) to run only some scripts while writing one.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": os.environ.get("GAUSSMIX_GALLERY_PATTERN", r"/plot_"),
    "ignore_pattern": r"__init__\.py|/_",
    "doc_module": ("gaussmix",),
    "backreferences_dir": "api/backreferences",
    "reference_url": {"gaussmix": None},
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 0,
    "matplotlib_animations": False,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "pydata_sphinx_theme"
html_title = f"gaussmix {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False

# Examples are scripts: the figures they draw go to files, never to a window.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg", category=UserWarning)


def _skip_metadata_requests(app, what, name, obj, skip, options):  # noqa: ARG001 (Sphinx's signature)
    """Leave out scikit-learn's generated ``set_*_request`` methods: metadata routing, documented by scikit-learn."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
