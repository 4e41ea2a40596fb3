"""Mistake: the model is left in training mode (model.train() instead of model.eval())."""

CHECK = "the model is in eval mode"
MESSAGE = "model.training is True"


def load_generator(model_name):
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_name, dtype=info.dtype).to(info.device)
    model.train()
    return model, tokenizer
