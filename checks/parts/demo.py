"""Autograder for 02 · Demo: the "Your turn: mean pooling" task.

The checks build their own inputs (random token vectors with padding) and their
own expected value, so nothing the notebook prints or stores is trusted.
"""

from __future__ import annotations

import torch

from checks.grader import Part, expect, prerequisite, require

part = Part("demo")
TASK = "Your turn: mean pooling"
SHAPE = "mean_pool returns one float vector per sentence"


def _padded_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Three sentences of 5, 3 and 1 real tokens, padded to 5; hidden size 8."""
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(3, 5, 8, generator=generator)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    return hidden, mask


def _expected(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.stack([hidden[i, : int(mask[i].sum())].mean(dim=0) for i in range(hidden.shape[0])])


def _reference_mean_pool(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


@part.catch_up(TASK)
def _catch_up_mean_pool():
    """A working ``mean_pool`` for a learner stuck on the task (the similarity table needs it)."""
    return _reference_mean_pool


@part.check(SHAPE, task=TASK,
            hint="Pool over the token dimension (dim=1): [batch, tokens, hidden] -> [batch, hidden], "
                 "and return the tensor itself (not a list or a number).",
            more_hint="A sum or mean with dim=1 removes the token dimension; dim=-1 would remove the hidden one.")
def _shape(ns):
    mean_pool = require(ns, "mean_pool", callable)
    hidden, mask = _padded_batch()
    out = mean_pool(hidden, mask)
    expect(isinstance(out, torch.Tensor), f"mean_pool should return a torch.Tensor, got {type(out).__name__}.")
    problems = []
    if tuple(out.shape) != (3, 8):
        problems.append(f"for inputs of shape (3, 5, 8) and (3, 5) expected shape (3, 8), got {tuple(out.shape)}")
    if not out.is_floating_point():
        problems.append(f"expected a float tensor, got {out.dtype}")
    expect(not problems, "; ".join(problems) + ".")


@part.check("mean_pool averages only the real tokens (padding ignored)", task=TASK,
            hint="A plain .mean(dim=1) also averages the padding. Weight each token by its attention "
                 "mask and divide by the number of real tokens.",
            more_hint="mask = attention_mask.unsqueeze(-1) gives [batch, tokens, 1]; multiply, .sum(dim=1), then "
                      "divide by mask.sum(dim=1) (clamp(min=1e-9) avoids dividing by zero).")
def _masked_mean(ns):
    mean_pool = require(ns, "mean_pool", callable)
    hidden, mask = _padded_batch()
    out = mean_pool(hidden.clone(), mask.clone())
    expect(isinstance(out, torch.Tensor) and tuple(out.shape) == (3, 8),
           f"mean_pool must first return a (batch, hidden) tensor {prerequisite(SHAPE)}.")
    expected = _expected(hidden, mask)
    worst = (out.float() - expected).abs().max().item()
    expect(torch.allclose(out.float(), expected, atol=1e-5),
           f"the pooled vectors differ from the average of the real tokens by up to {worst:.3f}; "
           "the sentence with 1 real token out of 5 should equal its first token vector.")


@part.check("mean_pool leaves its inputs unchanged", task=TASK,
            hint="Build new tensors (x * mask) instead of in-place operations (x *= mask, x.mul_()): "
                 "the caller still needs last_hidden_state.",
            more_hint="Operators ending in = (*=, /=) and methods ending in _ (mul_, div_, masked_fill_) change "
                      "the tensor they are called on.")
def _no_side_effects(ns):
    mean_pool = require(ns, "mean_pool", callable)
    hidden, mask = _padded_batch()
    hidden_copy, mask_copy = hidden.clone(), mask.clone()
    mean_pool(hidden, mask)
    problems = []
    if not torch.equal(hidden, hidden_copy):
        problems.append("last_hidden_state")
    if not torch.equal(mask, mask_copy):
        problems.append("attention_mask")
    expect(not problems, f"mean_pool modified {' and '.join(problems)} in place.")
