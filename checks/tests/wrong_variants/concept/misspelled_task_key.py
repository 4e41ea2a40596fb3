"""Mistake: writes a task name differently from the task's text, so the key does not match."""

CHECK = "auto_class_for maps the four tasks to Auto classes"
MESSAGE = "auto_class_for has no entry for ['sentiment classification']"

auto_class_for = {"text generation": AutoModelForCausalLM}
auto_class_for["sentence embeddings"] = AutoModel
auto_class_for["sentiment"] = AutoModelForSequenceClassification
auto_class_for["translation"] = AutoModelForSeq2SeqLM
