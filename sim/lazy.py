"""Importing Mesa without the parts of it the model does not use.

`import mesa` runs Mesa's package ``__init__``, which imports every Mesa module —
discrete spaces, networks, the batch runner, continuous space — and with them SciPy's
spatial module and networkx: 0.8 s on the 2-core development machine, six times the
0.12 s a 10,000-firm run takes. The model needs ``mesa.Model`` and ``mesa.Agent``
(0.37 s with NumPy and pandas, which it needs anyway).

`light_mesa` registers the packages ``mesa`` and ``mesa.experimental`` without running
their ``__init__`` (the lazy-submodule pattern of Scientific Python's SPEC 1, applied from
outside): submodules import as usual (``from mesa.model import Model``), ``mesa.Model``
and ``mesa.Agent`` import their own module only, and the first use of any other name of
the package (``mesa.__version__``, ``mesa.DataCollector``) runs the real ``__init__`` then,
so code that uses the rest of Mesa sees the whole package. tests/test_cli_start.py checks
both halves.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

#: Names of the mesa package that come from one of its submodules (mesa/__init__.py of Mesa 3.5).
MESA_NAMES = {"Model": "mesa.model", "Agent": "mesa.agent"}


def lazy_package(name: str, names: dict[str, str] | None = None):
    """Register package `name` without running its ``__init__`` until a name it defines is used.

    `names` maps names the ``__init__`` would define to the submodule that defines them;
    using one imports that submodule only. Does nothing if `name` is already imported.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:   # not installed, or not a package
        return None
    module = importlib.util.module_from_spec(spec)           # __path__, __spec__, __file__; __init__ not run
    names = dict(names or {})

    def __getattr__(attr: str):
        if attr in names:
            value = getattr(importlib.import_module(names.pop(attr)), attr)
            setattr(module, attr, value)
            return value
        if attr.startswith("__") and attr not in ("__version__", "__all__"):
            raise AttributeError(attr)      # copy, pickle and inspect probe dunders: no reason to load
        del module.__getattr__              # run the package's own __init__ now, once
        spec.loader.exec_module(module)
        return getattr(module, attr)

    module.__getattr__ = __getattr__
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def light_mesa() -> None:
    """`import mesa` costs only what ``mesa.Model`` and ``mesa.Agent`` need (see the module docstring)."""
    if lazy_package("mesa", MESA_NAMES) is not None:
        lazy_package("mesa.experimental")
