"""Watching ``model.generate``: what the learner's function asked for and what it got, for the exercise's checks.

``with GenerateSpy(model) as spy: learner_function(model, ...)`` records every call (its keyword arguments, the
effective ``GenerationConfig``, batch size, prompt and new token counts, seconds) in ``spy.calls``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import torch

from checks.grader import expect


@dataclass
class GenerateCall:
    """One observed ``model.generate`` call."""

    kwargs: dict[str, Any]
    config: Any  # the effective GenerationConfig (model defaults < generation_config= < keyword arguments)
    batch_size: int
    prompt_tokens: int
    new_tokens: int
    seconds: float = 0.0

    @property
    def samples(self) -> bool:
        return bool(self.config.do_sample)


class GenerateSpy:
    """Context manager recording every ``model.generate`` call made through ``model``."""

    def __init__(self, model):
        self.model = model
        self.calls: list[GenerateCall] = []

    def __enter__(self) -> GenerateSpy:
        original = type(self.model).generate.__get__(self.model)

        def generate(*args, **kwargs):
            started = time.perf_counter()
            output = original(*args, **kwargs)
            seconds = time.perf_counter() - started
            self.calls.append(self._describe(args, kwargs, output))
            self.calls[-1].seconds = seconds
            return output

        self.model.generate = generate
        return self

    def __exit__(self, *exc) -> None:
        del self.model.generate

    def _describe(self, args, kwargs, output) -> GenerateCall:
        config = copy.deepcopy(kwargs.get("generation_config") or self.model.generation_config)
        for key, value in kwargs.items():
            if key != "generation_config" and hasattr(config, key):
                setattr(config, key, value)
        ids = kwargs.get("input_ids", args[0] if args else None)
        sequences = getattr(output, "sequences", output)
        prompt_tokens = int(ids.shape[-1]) if isinstance(ids, torch.Tensor) else 0
        batch = int(ids.shape[0]) if isinstance(ids, torch.Tensor) and ids.dim() == 2 else 1
        new = int(sequences.shape[-1]) - prompt_tokens if isinstance(sequences, torch.Tensor) else 0
        return GenerateCall(dict(kwargs), config, batch, prompt_tokens, new)

    @property
    def last(self) -> GenerateCall:
        expect(self.calls, "your function never called model.generate(...): generate the text with the model "
                           "passed in as an argument.")
        return self.calls[-1]
