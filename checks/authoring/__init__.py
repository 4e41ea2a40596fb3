"""Course authoring tools the Makefile runs: ``make student`` (learner copies), ``make run`` (execute the solutions)
and the phases' time boxes. Nothing here is imported by a notebook."""
