"""Mistake: padding_side is left at the library default ("right")."""

CHECK = "the tokenizer pads on the left"
MESSAGE = "padding_side is 'right'"


def load_generator(model_name):
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_name, dtype=info.dtype).to(info.device)
    model.eval()
    return model, tokenizer
