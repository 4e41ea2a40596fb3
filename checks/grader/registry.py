"""Check definitions: how an autograder part is declared and run.

A part lives in ``checks/parts/<part>.py`` (its row in :data:`checks.course.NOTEBOOKS` names the notebook it
grades) and declares::

    part = Part("demo")

    @part.check("mean_pool returns one vector per sentence", task="Your turn: mean pooling",
                hint="Sum the token vectors of each sentence and divide by its length.")
    def _shape(ns):
        mean_pool = require(ns, "mean_pool", callable)
        ...
        expect(out.shape == (2, 384), f"expected shape (2, 384), got {tuple(out.shape)}")

A task whose name starts with :data:`checks.course.OPTIONAL_PREFIX` (``"Bonus A: fit_prompt"``) is optional: its
checks are scored apart from the core. Where a later task needs an earlier task's result, the part registers a
catch-up::

    @part.catch_up("Task 1: load_generator")
    def _working_generator():
        return load_model_and_tokenizer()

and the notebook offers ``helpers.catch_up("exercise", "Task 1")`` (:func:`catch_up`): the learner gets a working
result and goes on; that task then scores as caught up (no points).

A check receives the notebook's namespace (a ``dict`` of real Python objects),
passes by returning and fails by raising :class:`CheckFailed` (via :func:`expect`
or :func:`require`); :func:`run_check` turns either into a :class:`checks.grader.schema.CheckResult`. The same
definitions serve ``check(...)`` in the notebook, ``pytest`` and ``make grade``.
"""

from __future__ import annotations

import functools
import importlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks import course
from checks.grader.schema import CheckResult, is_optional

CAUGHT_UP: set[tuple[str, str]] = set()
"""``(part, task)`` pairs this process caught up with :func:`catch_up` (the notebook's kernel, or the grading child)."""


class CheckFailed(AssertionError):
    """Raised by a check to fail with a teaching message."""


def expect(condition: object, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition`` is truthy."""
    if not condition:
        raise CheckFailed(message)


def prerequisite(check_name: str) -> str:
    """The pointer a check adds to its message when it cannot run because another check's criterion fails.

    The grader self-test (``checks/tests/test_wrong_variants.py``) accepts a failing check alongside the
    intended one only when its message carries this pointer to it.
    """
    return f"(see the check '{check_name}')"


_MISSING = object()


def require(ns: dict[str, Any], name: str, kind: type | Callable[[Any], bool] | None = None) -> Any:
    """Fetch ``name`` from the notebook namespace, failing with a clear message.

    Args:
        ns: the notebook namespace.
        name: variable or function name the task asks for.
        kind: a type the value must be an instance of, or a predicate such as ``callable``.

    Raises:
        CheckFailed: the name is missing or of the wrong kind.
    """
    value = ns.get(name, _MISSING)
    if value is _MISSING:
        raise CheckFailed(f"`{name}` is not defined: write it in its task cell and run that cell.")
    if isinstance(kind, type):
        if not isinstance(value, kind):
            raise CheckFailed(f"`{name}` should be a {kind.__name__}, got {type(value).__name__}.")
    elif kind is not None and not kind(value):
        raise CheckFailed(f"`{name}` should be {getattr(kind, '__name__', 'valid')}, got {type(value).__name__}.")
    return value


@dataclass(frozen=True)
class Check:
    """One graded criterion.

    Attributes:
        name: what is verified, phrased as the expected behaviour.
        func: ``func(ns) -> None``; raises :class:`CheckFailed` to fail.
        task: notebook section the check belongs to (used to filter and to point the learner).
        hint: shown when the check fails; teaches without giving the answer away.
        points: weight in the score.
        clean: an artifact check: it runs in a fresh process that never executed notebook code, on the files
            the notebook wrote, seeing only the values of ``reads`` (exported by :mod:`checks.grader.exports`).
        reads: the notebook names a clean check reads (paths, ids, flags, cards).
        requires: checks of the notebook's process this one builds on: when one of them fails, this one fails
            too, pointing to it (a clean check cannot see, say, whether the saved adapter is the trained one).
        grading_only: why the check is too slow for a notebook's ``check()`` (which answers within
            :data:`checks.grader.limits.CHECK_BUDGET_S` on a laptop CPU); ``check()`` then lists it as not run with
            this reason and ``make grade`` runs it. Empty: it runs everywhere.
        more_hint: a second, more specific hint, shown from the learner's second failed ``check()`` of the task.
    """

    name: str
    func: Callable[[dict[str, Any]], None]
    task: str
    hint: str
    points: int = 1
    clean: bool = False
    reads: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    grading_only: str = ""
    more_hint: str = ""

    @property
    def optional(self) -> bool:
        """Whether the check belongs to an optional task (:func:`checks.grader.schema.is_optional`)."""
        return is_optional(self.task)

    def result(self, *, passed: bool = False, **fields: Any) -> CheckResult:
        """A :class:`CheckResult` of this check: its name, task, hint and points, with ``passed`` and ``fields``
        (``message``, ``seconds``, ``ran``, ``caught_up``, ``stopped``) as given."""
        return CheckResult(name=self.name, task=self.task, hint=self.hint, points=self.points, passed=passed,
                           **fields)


@dataclass
class Part:
    """A named group of checks grading one notebook."""

    name: str
    checks: list[Check] = field(default_factory=list)
    catch_ups: dict[str, Callable[[], Any]] = field(default_factory=dict)
    """``{task: function}``: what :func:`catch_up` returns for a task a later task builds on."""

    def check(self, name: str, *, task: str, hint: str, points: int = 1, reads: tuple[str, ...] = (),
              requires: tuple[str, ...] = (), grading_only: str = "", more_hint: str = ""):
        """Decorator registering ``func(ns)`` as a check of this part.

        Given ``reads``, the check is an artifact check (:attr:`Check.clean`): ``make grade`` runs it in a fresh
        process with only those names of the notebook, exported as data; ``requires`` names checks it builds on;
        ``grading_only`` (the reason) keeps a slow check out of the notebook's ``check()``; ``more_hint`` is shown
        from the second failed attempt on.
        """

        def register(func: Callable[[dict[str, Any]], None]):
            if any(c.name == name for c in self.checks):
                raise ValueError(f"Part {self.name!r} already has a check named {name!r}.")
            self.checks.append(Check(name, func, task, hint, points, clean=bool(reads), reads=tuple(reads),
                                     requires=tuple(requires), grading_only=grading_only, more_hint=more_hint))
            return func

        return register

    def catch_up(self, task: str):
        """Decorator registering ``func() -> result`` as the catch-up of ``task`` (a full task name of this part).

        The result is what a later task needs (a loaded model, a config); :func:`catch_up` hands it to a
        learner who is stuck, and the task then scores as caught up.
        """

        def register(func: Callable[[], Any]):
            self.catch_ups[task] = func
            return func

        return register

    def select(self, task: str | None = None) -> list[Check]:
        """Checks whose task contains ``task`` (case-insensitive); all when ``None``.

        Raises:
            ValueError: no check matches; the message lists the tasks.
        """
        if task is None:
            return list(self.checks)
        chosen = [c for c in self.checks if task.lower() in c.task.lower()]
        if not chosen:
            tasks = sorted({c.task for c in self.checks})
            raise ValueError(f"No check of part {self.name!r} matches task {task!r}. Tasks: {tasks}")
        return chosen


def available_parts() -> list[str]:
    """Names of the parts, in course order (:data:`checks.course.NOTEBOOKS`)."""
    return course.parts()


def load_part(name: str) -> Part:
    """The ``part`` of ``checks.parts.<name>`` (imported once per process).

    Raises:
        ValueError: no such part; the message lists the available ones.
    """
    if not isinstance(name, str) or name not in course.parts():
        raise ValueError(f"Unknown autograder part {name!r}. Available: {available_parts()}")
    return _import_part(name)


@functools.cache
def _import_part(name: str) -> Part:
    return importlib.import_module(f"checks.parts.{name}").part


def part_for_notebook(notebook: str | Path) -> str:
    """The part that grades ``notebook``, matched on the file-name prefix (:func:`checks.course.notebook_of`).

    Raises:
        ValueError: no part grades this notebook.
    """
    return course.notebook_of(notebook).part


def catch_up(part: str, task: str) -> Any:
    """A working result for ``task`` of ``part``, so a learner stuck on it can go on; the task then scores 0.

    Args:
        part: autograder part, e.g. ``"exercise"``.
        task: text of the task's name, e.g. ``"Task 1"`` (matched as :meth:`Part.select` does).

    Returns:
        What the part's catch-up for the task returns (see the notebook's catch-up cell for its shape).

    Raises:
        ValueError: unknown part, or the part offers no catch-up for such a task; the message lists those it offers.
    """
    definition = load_part(part)
    matches = [name for name in definition.catch_ups if task.lower() in name.lower()]
    if len(matches) != 1:
        offered = sorted(definition.catch_ups) or "none"
        raise ValueError(f"Part {part!r} has no catch-up for {task!r}. It offers: {offered}")
    (name,) = matches
    result = definition.catch_ups[name]()
    CAUGHT_UP.add((definition.name, name))
    print(f"Caught up on '{name}': you can go on with the next task. '{name}' now scores no points "
          "(restart the kernel and solve it yourself to earn them).")
    return result


def caught_up_tasks(part: str) -> set[str]:
    """The tasks of ``part`` this process caught up on (:func:`catch_up`)."""
    return {task for name, task in CAUGHT_UP if name == part}


def caught_up_result(check: Check) -> CheckResult:
    """The result of a check whose task was caught up: not run, no points."""
    return check.result(message="caught up: the catch-up cell gave a working result, so this task scores no points",
                        ran=False, caught_up=True)


def run_check(check: Check, ns: dict[str, Any]) -> CheckResult:
    """Run one check against a namespace, turning every outcome into a result."""
    started = time.perf_counter()
    try:
        check.func(ns)
    except CheckFailed as err:
        passed, message = False, str(err) or "check failed"
    except NotImplementedError:
        passed, message = False, f"Not implemented yet: replace the `raise NotImplementedError` in '{check.task}'."
    except AssertionError as err:
        passed, message = False, str(err) or "an assertion failed"
    except Exception as err:  # the learner's code may raise anything: report it, never crash
        frame = traceback.extract_tb(err.__traceback__)[-1]
        where = f" (line {frame.lineno} of {Path(frame.filename).name})" if frame.filename.startswith("<") else ""
        passed, message = False, f"Your code raised {type(err).__name__}: {err}{where}"
    else:
        passed, message = True, "ok"
    return check.result(passed=passed, message=message, seconds=round(time.perf_counter() - started, 3))


def run_checks(part: Part, ns: dict[str, Any], task: str | None = None, *, live: bool = False) -> list[CheckResult]:
    """Run the selected checks of ``part`` against ``ns`` in this process.

    ``live=True`` is a notebook's ``check()``: a :attr:`Check.grading_only` check does not run and is reported
    as not run, with its reason and ``make grade`` as the place where it runs. The checks of a task this process
    caught up on (:func:`catch_up`) are reported as caught up.
    """
    caught = caught_up_tasks(part.name)
    results = []
    for c in part.select(task):
        if c.task in caught:
            results.append(caught_up_result(c))
        elif live and c.grading_only:
            results.append(c.result(message=f"runs in make grade only: {c.grading_only}", ran=False))
        else:
            results.append(run_check(c, ns))
    return results
