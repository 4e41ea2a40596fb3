"""Autograder for 02 · Demo: the "Your turn: mean pooling" task.

The checks build their own inputs (random token vectors with padding) and their
own expected value, so nothing the notebook prints or stores is trusted.
"""

from __future__ import annotations

import torch

from grader import Part, expect, require

NOTEBOOK = "02_demo"
part = Part("demo")
TASK = "Your turn: mean pooling"


def _padded_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Three sentences of 5, 3 and 1 real tokens, padded to 5; hidden size 8."""
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(3, 5, 8, generator=generator)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    return hidden, mask


def _expected(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.stack([hidden[i, : int(mask[i].sum())].mean(dim=0) for i in range(hidden.shape[0])])


@part.check("mean_pool returns one float vector per sentence", task=TASK,
            hint="Pool over the token dimension (dim=1): [batch, tokens, hidden] -> [batch, hidden].")
def _shape(ns):
    mean_pool = require(ns, "mean_pool", callable)
    hidden, mask = _padded_batch()
    out = mean_pool(hidden, mask)
    expect(isinstance(out, torch.Tensor), f"mean_pool should return a torch.Tensor, got {type(out).__name__}.")
    expect(tuple(out.shape) == (3, 8),
           f"for inputs of shape (3, 5, 8) and (3, 5) expected shape (3, 8), got {tuple(out.shape)}.")
    expect(out.is_floating_point(), f"expected a float tensor, got {out.dtype}.")


@part.check("mean_pool averages only the real tokens (padding ignored)", task=TASK,
            hint="A plain .mean(dim=1) also averages the padding. Weight each token by its attention "
                 "mask and divide by the number of real tokens.")
def _masked_mean(ns):
    mean_pool = require(ns, "mean_pool", callable)
    hidden, mask = _padded_batch()
    out = mean_pool(hidden.clone(), mask.clone())
    expect(isinstance(out, torch.Tensor) and tuple(out.shape) == (3, 8),
           "mean_pool must first return a (batch, hidden) tensor (see the check above).")
    expected = _expected(hidden, mask)
    worst = (out.float() - expected).abs().max().item()
    expect(torch.allclose(out.float(), expected, atol=1e-5),
           f"the pooled vectors differ from the average of the real tokens by up to {worst:.3f}; "
           "the sentence with 1 real token out of 5 should equal its first token vector.")


@part.check("mean_pool leaves its inputs unchanged", task=TASK,
            hint="Build new tensors (x * mask) instead of in-place operations (x *= mask, x.mul_()): "
                 "the caller still needs last_hidden_state.")
def _no_side_effects(ns):
    mean_pool = require(ns, "mean_pool", callable)
    hidden, mask = _padded_batch()
    hidden_copy, mask_copy = hidden.clone(), mask.clone()
    mean_pool(hidden, mask)
    expect(torch.equal(hidden, hidden_copy), "mean_pool modified last_hidden_state in place.")
    expect(torch.equal(mask, mask_copy), "mean_pool modified attention_mask in place.")
