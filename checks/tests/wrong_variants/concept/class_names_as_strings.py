"""Mistake: writes the Auto classes' names as strings instead of the classes."""

CHECK = "auto_class_for maps the four tasks to Auto classes"
MESSAGE = "use the class itself"

auto_class_for = {"text generation": AutoModelForCausalLM}
auto_class_for["sentence embeddings"] = "AutoModel"
auto_class_for["sentiment classification"] = "AutoModelForSequenceClassification"
auto_class_for["translation"] = "AutoModelForSeq2SeqLM"
