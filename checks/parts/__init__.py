"""One module of check definitions per notebook (its row in :data:`checks.course.NOTEBOOKS`), loaded by
:func:`checks.grader.registry.load_part`: ``concept``, ``demo``, ``exercise``, ``challenge``, ``reflection``.

A part module holds only its checks (``part = Part(...)``, its messages, the ``@part.check`` and ``@part.catch_up``
functions and the small readers of the notebook they share). What the checks compute with lives in tooling modules
beside it, named after the part, which are not parts themselves (no row in the course table):

* :mod:`checks.parts.exercise_models`: the exercise grader's SmolLM2, its small random Llama, reference outputs;
* :mod:`checks.parts.exercise_spy`: watching ``model.generate`` (:class:`~checks.parts.exercise_spy.GenerateSpy`);
* :mod:`checks.parts.challenge_scoring`: the challenge grader's own models, the cached base score, adapter scores;
* :mod:`checks.parts.challenge_script`: the runs of the learner's inference script and the answers they must match.
"""
