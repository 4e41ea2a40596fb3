"""Mistake: a fixed seed (torch.manual_seed(0)) instead of the argument: every "sample" is the same."""

CHECK = "different seeds give different samples"
MESSAGE = "seeds 1, 2 and 3 all gave the same sample"


def generate_text(model, tokenizer, prompt, *, max_new_tokens=64, temperature=None, top_k=None, top_p=None,
                  num_beams=1, repetition_penalty=None, seed=None):
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    torch.manual_seed(0)
    sampling = {"do_sample": True, "temperature": temperature, "top_k": top_k, "top_p": top_p} if temperature else {}
    output_ids = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=num_beams,
                                repetition_penalty=repetition_penalty, **sampling)
    return tokenizer.decode(output_ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
