"""Mistake: generate_text returns the generated ids instead of decoded text."""

CHECK = "generate_text returns a str"
MESSAGE = "generate_text returned Tensor"


def generate_text(model, tokenizer, prompt, *, max_new_tokens=64, temperature=None, top_k=None, top_p=None,
                  num_beams=1, repetition_penalty=None, seed=None):
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    if seed is not None:
        transformers.set_seed(seed)
    sampling = {"do_sample": True, "temperature": temperature, "top_k": top_k, "top_p": top_p} if temperature else {}
    output_ids = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=num_beams,
                                repetition_penalty=repetition_penalty, **sampling)
    return output_ids[0, inputs["input_ids"].shape[1]:]
