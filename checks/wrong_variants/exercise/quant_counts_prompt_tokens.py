"""Mistake: tokens per second over the whole output, prompt tokens included, which flatters every variant."""

CHECK = "measure_variant reports the footprint, new tokens per second and held-out loss the grader recomputes"
MESSAGE = "count only the new tokens"


def measure_variant(model, tokenizer):
    inputs = tokenizer(SPEED_PROMPTS, padding=True, return_tensors="pt").to(model.device)
    text = tokenizer(HELD_OUT_TEXT, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        started = time.perf_counter()
        output = model.generate(**inputs, max_new_tokens=SPEED_NEW_TOKENS, min_new_tokens=SPEED_NEW_TOKENS,
                                do_sample=False, pad_token_id=tokenizer.pad_token_id)
        seconds = time.perf_counter() - started
        loss = model(**text, labels=text["input_ids"]).loss.item()
    return {"footprint_bytes": model.get_memory_footprint(), "tokens_per_second": output.numel() / seconds,
            "loss": loss}
