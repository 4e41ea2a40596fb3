"""Mistake: the batch is padded on the right, so the short prompts continue after pad tokens."""

CHECK = "batched greedy results equal single-prompt results (left padding, attention mask)"
MESSAGE = "but the prompt alone gives"


def generate_batch(model, tokenizer, prompts, **kwargs):
    inputs = tokenizer(prompts, padding=True, padding_side="right", return_tensors="pt").to(model.device)
    output_ids = model.generate(**inputs, do_sample=False, **kwargs)
    return tokenizer.batch_decode(output_ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
