"""Mistake: AutoModel instead of AutoModelForCausalLM (the bare transformer has no LM head)."""

CHECK = "load_generator returns a causal LM with its LM head, and its tokenizer"
MESSAGE = "has no language-model head"


def load_generator(model_name):
    from transformers import AutoModel

    tokenizer = AutoTokenizer.from_pretrained(model_name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model = AutoModel.from_pretrained(model_name, dtype=info.dtype).to(info.device)
    model.eval()
    return model, tokenizer
