"""Mistake: the comparison table leaves out the full fine-tuning run."""

CHECK = "comparison sets LoRA against full fine-tuning: quality, time, peak memory and checkpoint size"
MESSAGE = "it needs 'full'"

comparison = comparison.drop(columns="full")
