"""Mistake: formats tickets as plain text instead of the chat template the model was trained on."""

CHECK = "each example is the chat template's text of a ticket: prompt, answer, <|im_end|>"
MESSAGE = "is not in the chat format"

def tokenize_ticket(row):
    prompt = tokenizer(f"Message: {row['message']}\nJSON: ")["input_ids"]
    answer = tokenizer(format_record(row))["input_ids"] + [tokenizer.eos_token_id]
    input_ids = prompt + answer
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": [-100] * len(prompt) + answer}
