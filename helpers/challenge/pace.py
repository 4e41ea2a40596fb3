"""How long the challenge's compute cells will take on this machine, measured before they run.

The set-up cell of 04 · LoRA challenge measures a few LoRA training steps (about 5 s) and prints
the expected wall time of every cell that computes for more than a few seconds::

    pace = measure_pace()          # three training steps of SmolLM2 with the challenge's adapters
    ADAPTED_LAYERS = pace.adapted_layers
    pace                           # a table: cell, expected seconds

Where the core tasks would not fit their share of the 30-minute box, it picks the documented faster
setting (adapters on fewer blocks, :data:`FAST_LAYERS`) and says so. Every other cell's time is a
multiple of the measured step: the ratios come from ``make bench`` (see :data:`CELL_STEPS`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

NUM_LAYERS = 30
"""Decoder blocks of SmolLM2-135M."""
DEFAULT_LAYERS: tuple[int, ...] = tuple(range(22, NUM_LAYERS))
"""Adapters on the top 8 blocks: backpropagation stops at block 22."""
FAST_LAYERS: tuple[int, ...] = tuple(range(24, NUM_LAYERS))
"""The faster setting for a slow machine: the top 6 blocks. A LoRA step is about 12 % shorter (1.28 s instead of
1.45 s under the AVX2 stand-in, batch 4 x 99 tokens, answer-only logits) and the adapter a little weaker: 57 % exact
match on the hidden test split instead of 64 % (2026-12-02, 100 tickets, 3 epochs; 4 blocks reached 49 %)."""
CORE_COMPUTE_BUDGET_S = 300.0
"""Seconds the core's compute cells may take: 5 of the 30 minutes, the rest is the learner's."""
BATCH_SIZE, SEQUENCE_LENGTH, ANSWER_TOKENS = 4, 78, 27
"""The measured batch: the challenge's training batch (4 tickets of about 78 tokens, 27 of them the answer)."""
STEPS = 3
"""Training steps timed (after one warm-up step)."""

CELL_STEPS: dict[str, float] = {
    "Score the base model": 18.0,
    "Task 2: trainer.train()": 104.0,
    "Score the reloaded adapter": 28.0,
    "Measure the memory of LoRA and full fine-tuning": 22.0,
    "Bonus A: QLoRA training and scoring": 172.0,
    "Bonus B: full fine-tuning and scoring": 103.0,
    "Bonus C: the inference script": 18.0,
}
"""Wall time of each compute cell, in units of :func:`measure_pace`'s step (:data:`DEFAULT_LAYERS`).

Measured on 2026-12-02 under the AVX2 stand-in (2-core AMD EPYC): the step took 1.00 s, and each cell's seconds
(``make bench``'s notebook timings, the cells of a task added up) became these multiples. The memory cell again on
2026-12-03, after the memory probe stopped running a second full fine-tuning step: 21 s at a 0.96 s step. The
adapter's score: the reload and scoring cells of the former Task 5 (31 steps) less the three answers to new messages
it no longer generates. With bf16 autocast the step shrinks more than generation does, so the estimates run short on
a CPU with native bf16."""
CORE_CELLS = tuple(name for name in CELL_STEPS if not name.startswith("Bonus"))
CORE_STEPS = sum(CELL_STEPS[name] for name in CORE_CELLS)
"""The core's compute cells together, in steps."""


@dataclass(frozen=True)
class Pace:
    """What :func:`measure_pace` measured and chose.

    Attributes:
        seconds_per_step: one training step's forward and backward pass down to :data:`DEFAULT_LAYERS`, in seconds.
        fast_seconds_per_step: the same with :data:`FAST_LAYERS`, in seconds; ``None`` where the default fits (it is
            measured only when needed).
        adapted_layers: the blocks the challenge adapts on this machine (``layers_to_transform``).
        measured_s: how long the measurement took, in seconds.
    """

    seconds_per_step: float
    fast_seconds_per_step: float | None
    adapted_layers: tuple[int, ...]
    measured_s: float
    estimates: dict[str, float] = field(default_factory=dict)
    """Expected seconds of each cell of :data:`CELL_STEPS` with :attr:`adapted_layers`."""

    @property
    def fast(self) -> bool:
        """Whether the faster setting was chosen."""
        return self.adapted_layers == FAST_LAYERS

    @property
    def core_s(self) -> float:
        """Expected seconds of the core's compute cells."""
        return sum(self.estimates[name] for name in CORE_CELLS)

    def summary(self) -> str:
        """A few lines: the expected time of each compute cell and the choice made."""
        lines = [f"This machine: one training step's forward and backward pass takes {self.seconds_per_step:.2f} s "
                 f"(measured in {self.measured_s:.0f} s). Expected wall time of the cells that compute:"]
        lines += [f"  {name:<56} {_minutes(seconds):>8}" for name, seconds in self.estimates.items()]
        lines.append(f"  {'the core (not the bonuses) in all':<56} {_minutes(self.core_s):>8}")
        first, last = self.adapted_layers[0], self.adapted_layers[-1]
        if self.fast:
            lines.append(f"The core would need {_minutes(self.core_s_default)} here, more than its "
                         f"{_minutes(CORE_COMPUTE_BUDGET_S)}: ADAPTED_LAYERS is the faster setting, the top "
                         f"{len(self.adapted_layers)} blocks ({first}-{last}).")
        else:
            lines.append(f"ADAPTED_LAYERS: the top {len(self.adapted_layers)} blocks ({first}-{last}).")
        return "\n".join(lines)

    @property
    def core_s_default(self) -> float:
        """Expected seconds of the core with :data:`DEFAULT_LAYERS`."""
        return CORE_STEPS * self.seconds_per_step

    def __repr__(self) -> str:  # the notebook shows the object: show the table
        return self.summary()


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _input_as_leaf(module, args, kwargs):
    """A forward pre-hook: the block's input becomes a leaf needing a gradient (backpropagation stops there)."""
    if args:
        return (args[0].detach().requires_grad_(), *args[1:]), kwargs
    kwargs = dict(kwargs)
    kwargs["hidden_states"] = kwargs["hidden_states"].detach().requires_grad_()
    return args, kwargs


def _time_steps(model: torch.nn.Module, first_layer: int, inputs: dict[str, torch.Tensor]) -> float:
    """Median seconds of a forward and backward pass that backpropagates down to block ``first_layer``.

    This is a LoRA step's work (the adapters' own matmuls are small at rank 16) without building adapters: the
    frozen model's blocks from ``first_layer`` up pass gradients, the ones below do not.
    """
    from helpers.device import mixed_precision

    bf16 = mixed_precision("cpu") == "bf16"
    handle = model.model.layers[first_layer].register_forward_pre_hook(_input_as_leaf, with_kwargs=True)
    try:
        times = []
        for _ in range(STEPS + 1):  # the first pass warms the kernels up: not timed
            started = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(**inputs).loss
            loss.backward()
            times.append(time.perf_counter() - started)
    finally:
        handle.remove()
    return sorted(times[1:])[len(times[1:]) // 2]


def measure_pace(model_id: str = "HuggingFaceTB/SmolLM2-135M-Instruct", *, budget_s: float = CORE_COMPUTE_BUDGET_S,
                 seed: int = 0) -> Pace:
    """Time LoRA training steps on this machine and estimate every compute cell of the challenge.

    Measures :data:`STEPS` forward and backward passes (after a warm-up pass) of the frozen model on a batch of
    :data:`BATCH_SIZE` x :data:`SEQUENCE_LENGTH` random tokens, :data:`ANSWER_TOKENS` of each labelled (the timing
    does not depend on which tokens), backpropagating down to the lowest block of :data:`DEFAULT_LAYERS` and
    then, only when the default would not fit ``budget_s``, of :data:`FAST_LAYERS`, in fp32 or under bf16 autocast
    as the Trainer will run (:func:`helpers.device.mixed_precision`). About 5 s on a 2-core laptop CPU, twice that
    where the faster setting is measured too.

    Args:
        model_id: the chat model's Hub id (loaded from the cache).
        budget_s: seconds the core's compute cells may take; above it the faster setting is chosen.
        seed: seed of the random batch.

    Returns:
        A :class:`Pace`; its :attr:`Pace.adapted_layers` is what ``make_lora_config`` should use.
    """
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(10, 40_000, (BATCH_SIZE, SEQUENCE_LENGTH), generator=generator)
    labels = torch.full_like(input_ids, -100)
    labels[:, -ANSWER_TOKENS:] = input_ids[:, -ANSWER_TOKENS:]
    batch = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids), "labels": labels}
    from transformers import AutoModelForCausalLM

    from helpers.challenge.training import answer_logits_only
    from helpers.env import progress_bars_off

    with progress_bars_off():
        model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)
    model.requires_grad_(False).train()
    inputs = answer_logits_only(batch)
    step = round(_time_steps(model, DEFAULT_LAYERS[0], inputs), 3)
    fast_step = None if CORE_STEPS * step <= budget_s else round(_time_steps(model, FAST_LAYERS[0], inputs), 3)
    del model
    layers = DEFAULT_LAYERS if fast_step is None else FAST_LAYERS
    scale = 1.0 if fast_step is None else fast_step / step
    estimates = {name: steps * step * (scale if name == "Task 2: trainer.train()" else 1.0)
                 for name, steps in CELL_STEPS.items()}
    return Pace(seconds_per_step=step, fast_seconds_per_step=fast_step, adapted_layers=layers,
                measured_s=round(time.perf_counter() - started, 1), estimates=estimates)
