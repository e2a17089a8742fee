"""Package exports that load their module on first use (PEP 562).

Each package's ``__init__`` lists its public names by the module that defines them::

    __getattr__, __dir__, __all__ = exports(__name__, {"db": ["Database"], ...})

Why not plain imports in ``__init__``: ``from backchannel.store import Database`` would
then load every module of the store, and through them every package those import.
Two things forbid that. ``backchannel --help`` must not import the client libraries
(``collectors`` would pull in atproto, a second of start-up). And the store and consent
packages need each other (the store applies the consent rule as it writes; consent keeps
its records in the store's tables): eager ``__init__`` files would import each other
half-initialised. Loading one module per name keeps the module graph, which has no
cycles, as the only order that matters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any


def exports(
    package: str,
    names_by_module: Mapping[str, Sequence[str]],
    namespaces: Sequence[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    ``namespaces`` are modules exported whole (``exclusions.counts(...)``). No exported
    name may be a module's name too: once that module is imported, Python would set the
    module itself on the package under that name (``tests/test_layout.py`` checks).
    """
    where: dict[str, str] = {module: module for module in namespaces}
    for module, names in names_by_module.items():
        for name in names:
            if name in where:
                raise ValueError(f"{package}: {name!r} is exported twice")
            where[name] = module
    public = sorted(where)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = import_module(f"{package}.{module}")
        value = loaded if name in namespaces else getattr(loaded, name)
        # Cached on the package: the next lookup is an ordinary attribute.
        setattr(import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return public

    return __getattr__, __dir__, public
