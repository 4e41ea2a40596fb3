"""Mistake: sampling unless beam search is asked for ("generate samples by default"), so greedy calls are random."""

CHECK = "greedy decoding by default: deterministic and equal to the model's greedy output"
MESSAGE = "generate was called with do_sample=True for temperature=None"


def generate_text(model, tokenizer, prompt, *, max_new_tokens=64, temperature=None, top_k=None, top_p=None,
                  num_beams=1, repetition_penalty=None, seed=None):
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    if seed is not None:
        transformers.set_seed(seed)
    output_ids = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=num_beams,
                                do_sample=num_beams == 1, temperature=temperature or None, top_k=top_k,
                                top_p=top_p, repetition_penalty=repetition_penalty)
    return tokenizer.decode(output_ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
