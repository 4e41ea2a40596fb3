"""Mistake: add_generation_prompt is left out, so the assistant's turn is never opened."""

CHECK = "chat answers with the assistant's reply only"
MESSAGE = "without add_generation_prompt=True"


def chat(model, tokenizer, messages, **kwargs):
    inputs = tokenizer.apply_chat_template(messages, return_dict=True, return_tensors="pt").to(model.device)
    output_ids = model.generate(**inputs, do_sample=False, **kwargs)
    return tokenizer.decode(output_ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
