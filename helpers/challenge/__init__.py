"""What 04 · LoRA challenge needs that is not its lesson (the learner writes the LoRA and Trainer code).

* :mod:`helpers.challenge.task`: the support-ticket task: fields, prompts, data splits, the metric.
* :mod:`helpers.challenge.data`: the given training data: tickets tokenized with the chat template, prompt masked.
* :mod:`helpers.challenge.training`: batched greedy answers, parameter counts, checkpoint sizes.
* :mod:`helpers.challenge.memory_probe`: peak training memory, one fresh process per mode; what it uses:
  :mod:`~helpers.challenge.modes` (a model prepared for LoRA, QLoRA or full fine-tuning, shared with the grader's
  reference), :mod:`~helpers.challenge.probe_child` (the measuring child process),
  :mod:`~helpers.challenge.probe_records` (each measurement as the child wrote it) and
  :mod:`~helpers.challenge.allocator` (glibc's allocator settings for honest peaks).
* :mod:`helpers.challenge.pace`: how long the challenge's training takes on this machine (a few measured steps).
* :mod:`helpers.challenge.results`: the schema of ``results.json`` (write, read, validate, table).
* :mod:`helpers.challenge.hub`: 05 · Reflection's Hub task: staging the adapter and tickets, whether an upload can work.
"""
