"""One module of check definitions per notebook (its row in :data:`checks.course.NOTEBOOKS`), loaded by
:func:`checks.grader.registry.load_part`."""
