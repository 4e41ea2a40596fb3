"""Mistake: takes translation for plain text generation and picks the causal LM instead of an encoder-decoder."""

CHECK = "auto_class_for picks the Auto class whose head fits each task"
MESSAGE = "auto_class_for['translation'] is AutoModelForCausalLM"

auto_class_for = {"text generation": AutoModelForCausalLM}
auto_class_for["sentence embeddings"] = AutoModel
auto_class_for["sentiment classification"] = AutoModelForSequenceClassification
auto_class_for["translation"] = AutoModelForCausalLM
