"""The documentation covers the public API: every public name has a reference page and an example that runs.

The examples themselves run as doctests (``--doctest-modules`` in pyproject.toml), and the site's build
(``python -m sphinx -W``, in ``.ci/run``) fails on a broken example or reference; these tests catch a public name
added without either.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
PUBLIC_MODULES = ("gaussmix", "gaussmix.core", "gaussmix.analysis", "gaussmix.torch", "gaussmix.plot",
                  "gaussmix.datasets", "gaussmix.io.sources", "gaussmix.io.model_file", "gaussmix.io.writers",
                  "gaussmix.io.atomic")


def public_objects() -> list[tuple[str, str, object]]:
    """(module, name, object) for every public name: ``__all__``, or the module's own functions and classes."""
    found = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n, v in vars(module).items() if not n.startswith("_") and (inspect.isfunction(v)
                     or inspect.isclass(v)) and v.__module__ == module_name]
        found += [(module_name, n, getattr(module, n)) for n in names if n != "__version__"]
    return found


def documented_objects() -> set[int]:
    """ids of the objects the API page lists, resolved from its ``currentmodule`` and autosummary entries."""
    ids, module = set(), "gaussmix"
    for line in API_PAGE.read_text().splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = match.group(1)
        elif match := re.match(r"   ([A-Za-z_][\w.]*)$", line):
            owner, _, name = f"{module}.{match.group(1)}".rpartition(".")
            ids.add(id(getattr(importlib.import_module(owner), name)))
    return ids


def test_every_public_name_has_a_reference_page():
    listed = documented_objects()
    missing = [f"{m}.{n}" for m, n, obj in public_objects() if id(obj) not in listed]
    assert not missing, f"add these to docs/api.rst: {missing}"


def test_every_public_class_and_function_has_an_example():
    missing = [f"{m}.{n}" for m, n, obj in public_objects()
               if (inspect.isclass(obj) or inspect.isfunction(obj))
               and "Examples\n--------" not in (inspect.getdoc(obj) or "")]
    assert not missing, f"add a numpydoc Examples section (a doctest) to: {missing}"
