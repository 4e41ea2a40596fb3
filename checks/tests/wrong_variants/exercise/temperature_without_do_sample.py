"""Mistake: temperature, top_k and top_p are passed without do_sample=True, so generate stays greedy."""

CHECK = "a positive temperature samples, with the given temperature, top_k, top_p and repetition_penalty"
MESSAGE = "temperature=0.7 was passed but generate got do_sample=None"


def generate_text(model, tokenizer, prompt, *, max_new_tokens=64, temperature=None, top_k=None, top_p=None,
                  num_beams=1, repetition_penalty=None, seed=None):
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    if seed is not None:
        transformers.set_seed(seed)
    output_ids = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=num_beams,
                                temperature=temperature or None, top_k=top_k, top_p=top_p,
                                repetition_penalty=repetition_penalty)
    return tokenizer.decode(output_ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
