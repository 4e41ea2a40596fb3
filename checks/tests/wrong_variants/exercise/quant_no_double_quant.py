"""Mistake: 4-bit NF4 without double quantization: the per-block scales stay in full precision."""

CHECK = "make_quantization_config(8) is LLM.int8, (4) is NF4 with double quantization and the device's dtype"
MESSAGE = "bnb_4bit_use_double_quant off"


def make_quantization_config(bits):
    if bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    if bits == 4:
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                  bnb_4bit_compute_dtype=info.compute_dtype)
    raise ValueError(bits)
