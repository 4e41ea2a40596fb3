"""Mistake: the pad-token fallback is missing (SmolLM2 has one, many causal LMs do not)."""

CHECK = "the tokenizer gets a pad token when the model ships without one"
MESSAGE = "left tokenizer.pad_token as None"


def load_generator(model_name):
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_name, dtype=info.dtype).to(info.device)
    model.eval()
    return model, tokenizer
