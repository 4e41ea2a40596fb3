"""JSON files that follow a pydantic schema: read with one-line errors, write atomically.

The workshop's three data files go through here: the Exercise's quantization measurements
(:mod:`helpers.quantization`), the challenge's ``results.json`` (:mod:`helpers.challenge.results`) and the
grade report (:mod:`checks.grader.schema`)::

    results = read_json(path, ResultsFile, what="The challenge results file", again="Re-run ...", error=ResultsError)
    write_json(results, path)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from helpers.paths import shown_path

Model = TypeVar("Model", bound=BaseModel)


def first_error(err: ValidationError) -> str:
    """The first problem pydantic found, as ``"field.path: message (got value)"`` on one line."""
    first = err.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "the top level"
    got = f" (got {first['input']!r})" if "input" in first and not isinstance(first["input"], dict | list) else ""
    return f"{field}: {first['msg']}{got}"


def validate(data: object, schema: type[Model], *, what: str, again: str, error: type[Exception]) -> Model:
    """``data`` as a ``schema`` instance.

    Raises:
        error: ``data`` does not fit ``schema``; the message is ``"{what} does not fit the schema: {field}: ...
            {again}"``.
    """
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        raise error(f"{what} does not fit the schema: {first_error(err)}. {again}") from None


def read_json(path: str | Path, schema: type[Model], *, what: str, again: str,
              error: type[Exception]) -> Model | None:
    """The file at ``path`` validated against ``schema``, or ``None`` when there is no such file.

    Args:
        path: the JSON file.
        schema: the pydantic model the file must fit.
        what: how to name the file in a message, e.g. ``"The grade report build/grades/report.json"``.
        again: the sentence that says how to rewrite it, e.g. ``"Run `make grade` again."``.
        error: the exception class to raise (a ``ValueError`` subclass of the caller's module).

    Raises:
        error: the file cannot be read, is not JSON, or does not fit ``schema`` (one line, no traceback).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{what} could not be read ({type(err).__name__}). {again}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{what} is not valid JSON ({err.msg}: line {err.lineno}, column {err.colno}); it may have "
                    f"been cut short. {again}") from None
    return validate(data, schema, what=what, again=again, error=error)


def write_json(model: BaseModel, path: str | Path, *, exclude_unset: bool = False) -> Path:
    """Write ``model`` as indented JSON to ``path`` atomically (a reader never sees half a file), creating folders.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.write_text(model.model_dump_json(indent=2, exclude_unset=exclude_unset) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def describe(path: str | Path, kind: str) -> str:
    """``"{kind} {path}"``, the path as a learner reads it (repository-relative): :func:`read_json`'s ``what``."""
    return f"{kind} {shown_path(path)}"
