"""Mistake: the whole output sequence is decoded, so the prompt comes back in front of the answer."""

CHECK = "generate_text returns only the new text, not the prompt"
MESSAGE = "the output starts with the prompt"


def generate_text(model, tokenizer, prompt, *, max_new_tokens=64, temperature=None, top_k=None, top_p=None,
                  num_beams=1, repetition_penalty=None, seed=None):
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    if seed is not None:
        transformers.set_seed(seed)
    sampling = {"do_sample": True, "temperature": temperature, "top_k": top_k, "top_p": top_p} if temperature else {}
    output_ids = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=num_beams,
                                repetition_penalty=repetition_penalty, **sampling)
    return tokenizer.decode(output_ids[0], skip_special_tokens=True)
