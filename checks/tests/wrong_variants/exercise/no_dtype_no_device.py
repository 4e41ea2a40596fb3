"""Mistake: neither dtype= nor .to(device): the checkpoint's bfloat16 on whatever device loads by default.

On a CPU machine the dtype gives it away; on a GPU machine the device does too.
"""

CHECK = "the model is on the device and dtype chosen by helpers.setup()"
MESSAGE = "helpers.setup() chose"


def load_generator(model_name):
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_name)
    model.eval()
    return model, tokenizer
