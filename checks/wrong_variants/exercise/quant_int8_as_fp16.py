"""Mistake: "8-bit" loaded as float16, which halves the memory but quantizes nothing."""

CHECK = "load_variant loads fp32 and bf16 in their dtype, and int8 and nf4 with really quantized linear layers"
MESSAGE = "load_variant('int8') has 0 int8 linear layers"

_solution_load_variant = load_variant


def load_variant(variant):
    if variant == "int8":
        return AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=torch.float16).eval()
    return _solution_load_variant(variant)
