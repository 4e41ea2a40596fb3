"""Tamper evidence: is the grading code in this process still the code the grader loaded?

Object checks run in the notebook's own process (they need its live objects), so a cell could
replace ``run_check``, a part's check functions or points, a ``sys.modules`` entry, a builtin
such as ``isinstance``, or a library function the checks compare answers with
(``torch.allclose``, the comparison operators of ``torch.Tensor``). :func:`fingerprint` records
the identity of every function, class and code object of the grading modules, of the library
functions in :data:`GUARDED_LIBRARY` and of the builtins before the notebook runs; :func:`changes`
compares after each cell. The library list is short on purpose: libraries rewrap some of torch's
own functions when they are imported (``torch.manual_seed`` when torch's compiler loads), which is
no tampering. It is evidence, not a sandbox: code that replaces
this module's own functions is caught too, code that rewrites memory is not, and scores come
from the parent process anyway (:mod:`checks.grader.runner`).
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import sys
import types
from typing import Any

# This module's own view of the builtins it calls, bound now: a cell that replaces builtins.isinstance must not
# blind the comparison that is meant to notice it.
callable, dict, id, isinstance, list, repr, sorted, type, vars = (
    builtins.callable, builtins.dict, builtins.id, builtins.isinstance, builtins.list, builtins.repr,
    builtins.sorted, builtins.type, builtins.vars)
ORIGINAL_BUILTINS = builtins.dict(builtins.vars(builtins))
"""The builtins as they were when the grader started; :func:`restore_builtins` puts them back."""

GUARDED_PREFIXES = ("checks", "helpers")
"""Modules whose functions and classes decide a grade: the engine, the parts, the reference, the helpers they call."""
GUARDED_LIBRARY: dict[str, tuple[str, ...]] = {
    "torch": ("allclose", "equal", "isclose", "eq", "ne", "all", "any", "is_tensor"),
    "torch.testing": ("assert_close",),
    "torch.Tensor": ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__float__", "__int__",
                     "__len__", "__iter__", "__getitem__", "eq", "ne", "equal", "allclose", "isclose", "all", "any",
                     "item", "tolist", "float", "abs", "sum", "mean", "max", "min", "shape", "dtype", "size"),
    "math": ("isclose", "isfinite", "isnan"),
    "numpy": ("allclose", "isclose", "array_equal"),
}
"""Library functions (and ``torch.Tensor`` members, inherited ones included) the checks compare answers with:
``{module or class: names}``. A notebook that replaces one of them is caught like one that replaces grading code."""


def _guarded_modules() -> dict[str, types.ModuleType]:
    return {name: module for name, module in list(sys.modules.items())
            if isinstance(module, types.ModuleType) and name.split(".")[0] in GUARDED_PREFIXES}


def _members(prefix: str, namespace: dict[str, Any], into: dict[str, int], depth: int = 0) -> None:
    for key, value in list(namespace.items()):
        if isinstance(value, types.FunctionType):
            into[f"{prefix}.{key}"] = id(value)
            into[f"{prefix}.{key}.__code__"] = id(value.__code__)
        elif callable(value):  # classes, builtins, functools.cache wrappers, partials
            into[f"{prefix}.{key}"] = id(value)
            if isinstance(value, type) and depth == 0 and value.__module__.split(".")[0] in GUARDED_PREFIXES:
                _members(f"{prefix}.{key}", dict(vars(value)), into, depth + 1)


def _library_members() -> dict[str, int]:
    """``{"torch.allclose": id, ...}`` for :data:`GUARDED_LIBRARY`, of the modules imported so far."""
    found = {}
    for owner, names in GUARDED_LIBRARY.items():
        parent, _, attribute = owner.rpartition(".")  # a module ("torch.testing"), else a class of one ("torch.Tensor")
        target = sys.modules.get(owner) or getattr(sys.modules.get(parent), attribute, None)
        if target is None:
            continue
        for name in names:
            with contextlib.suppress(AttributeError):  # inherited members too: Tensor.__eq__ is TensorBase's
                found[f"{owner}.{name}"] = id(inspect.getattr_static(target, name))
    return found


def fingerprint(parts: list[Any]) -> dict[str, int | str]:
    """Identities of the grading code now: ``{what: id or value}``.

    Args:
        parts: the :class:`checks.grader.registry.Part` objects being graded (their checks, functions and points).
    """
    prints: dict[str, int | str] = {}
    guarded = _guarded_modules()
    for name, module in sorted(guarded.items()):
        prints[f"sys.modules[{name!r}]"] = id(module)
        _members(name, dict(vars(module)), prints)
    prints.update(_library_members())
    for key, value in vars(builtins).items():
        if callable(value):
            prints[f"builtins.{key}"] = id(value)
    for part in parts:
        prints[f"part {part.name}: checks"] = id(part.checks)
        prints[f"part {part.name}: number of checks"] = len(part.checks)
        for check in part.checks:
            where = f"check {check.name!r}"
            prints[where] = id(check)
            prints[f"{where}: function"] = id(check.func)
            prints[f"{where}: code"] = id(check.func.__code__)
            prints[f"{where}: points"] = repr(check.points)
    return prints


def restore_builtins() -> None:
    """Put back every builtin a notebook replaced or removed, so the grader can finish its report."""
    for key, value in ORIGINAL_BUILTINS.items():
        if vars(builtins).get(key) is not value:
            setattr(builtins, key, value)


def changes(before: dict[str, int | str], after: dict[str, int | str]) -> list[str]:
    """What differs between two fingerprints: replaced or removed entries (new modules and names are allowed)."""
    return [key for key, value in before.items() if after.get(key) != value]
