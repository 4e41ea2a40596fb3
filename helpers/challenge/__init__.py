"""What 04 · LoRA challenge needs that is not its lesson (the learner writes the LoRA and Trainer code).

* :mod:`helpers.challenge.task`: the support-ticket task: fields, prompts, data splits, the metric.
* :mod:`helpers.challenge.data`: the given training data: tickets tokenized with the chat template, prompt masked.
* :mod:`helpers.challenge.training`: batched greedy answers, parameter counts, checkpoint sizes.
* :mod:`helpers.challenge.memory_probe`: peak training memory, one fresh process per mode.
* :mod:`helpers.challenge.results`: the schema of ``results.json`` (write, read, validate, table).
* :mod:`helpers.challenge.hub`: 05 · Reflection's Hub task: staging the adapter and tickets, whether an upload can work.
"""
