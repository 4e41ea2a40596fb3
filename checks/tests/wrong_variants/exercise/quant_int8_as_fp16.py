"""Mistake: "8-bit" loaded as float16, which halves the memory but quantizes nothing."""

CHECK = "load_quantized(8) and (4) load SmolLM2 with really quantized linear layers, on the device, in eval mode"
MESSAGE = "load_quantized(8) has 0 8-bit linear layers"

_solution_load_quantized = load_quantized


def load_quantized(bits):
    if bits == 8:
        return AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=torch.float16).eval()
    return _solution_load_quantized(bits)
