"""Mistake: AutoModel instead of AutoModelForCausalLM (the bare transformer has no LM head)."""

CHECK = "load_generator returns a causal LM with its LM head, and its tokenizer"
MESSAGE = "has no language-model head"


def load_generator(model_name):
    from transformers import AutoModel

    path = resolve_model(model_name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model = AutoModel.from_pretrained(path, dtype=info.dtype).to(info.device)
    model.eval()
    return model, tokenizer
