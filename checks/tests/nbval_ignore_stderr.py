"""pytest plugin: nbval compares a checked cell's outputs without its stderr stream.

Libraries write progress bars and warnings to stderr, which differ from machine to
machine; the workshop's checked outputs are what the notebook prints or returns.
Loaded with ``-p nbval_ignore_stderr`` (``checks/`` is on pytest's ``pythonpath``).
"""

from __future__ import annotations

from nbval.plugin import IPyNbCell

_compare = IPyNbCell.compare_outputs


def _without_stderr(outputs):
    return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def compare_outputs(self, test, ref, skip_compare=None):
    return _compare(self, _without_stderr(test), _without_stderr(ref), skip_compare)


IPyNbCell.compare_outputs = compare_outputs
