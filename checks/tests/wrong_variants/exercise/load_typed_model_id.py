"""Mistake: types a model id instead of using model_name, and the one typed (the base model, not the Instruct one)
is not in the offline cache: from_pretrained raises OSError. One check explains it in one line; the others point to it.
"""

CHECK = "load_generator returns a causal LM with its LM head, and its tokenizer"
MESSAGE = "raised OSError"


def load_generator(model_name):
    tokenizer = AutoTokenizer.from_pretrained("HuggingFaceTB/SmolLM2-135M")
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M", dtype=info.dtype).to(info.device)
    return model.eval(), tokenizer
