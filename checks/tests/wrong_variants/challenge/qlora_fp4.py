"""Mistake: 4-bit FP4 instead of NF4, the data type QLoRA introduced for normally distributed weights."""

CHECK = "bnb_config is a 4-bit NF4 BitsAndBytesConfig with double quantization and the device's compute dtype"
MESSAGE = "bnb_config has bnb_4bit_quant_type 'fp4'"

bnb_config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="fp4", bnb_4bit_use_double_quant=True,
                                bnb_4bit_compute_dtype=info.compute_dtype)
