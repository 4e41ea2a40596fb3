"""``make bench``: the workshop's speed and memory, measured in one run on this machine.

``python -m checks.bench`` (``make bench``) measures, side by side, and merges into ``build/bench/bench.json``
(schema :class:`checks.bench.report.BenchFile`) with a plot ``build/bench/bench.png``:

* each solution notebook's wall time, its slowest cells and the latency of every ``helpers.check`` cell
  (:mod:`checks.bench.notebooks`);
* cached model load and greedy generation speed in fp32, bf16, int8 and nf4 (:mod:`checks.bench.inference`);
* training: seconds per step, trained tokens per second and peak memory of LoRA, QLoRA and full fine-tuning on
  one batch, and the course's training recipe against a naive one (:mod:`checks.bench.training`);
* ``make grade``'s wall time per part (:mod:`checks.bench.grading`).

``make bench CPU=avx2`` runs the same under the AVX2 stand-in (``ATEN_CPU_CAPABILITY=avx2
MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2``), the instruction set of most learner laptops; the file
keeps one run per CPU kind, so the two sit next to each other.
"""
