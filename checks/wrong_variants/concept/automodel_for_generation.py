"""Mistake: picks the bare AutoModel (no language-model head) for text generation."""

CHECK = "auto_class_for picks the Auto class whose head fits each task"
MESSAGE = "auto_class_for['text generation'] is AutoModel"

auto_class_for = {
    "text generation": AutoModel,
    "sentence embeddings": AutoModel,
    "sentiment classification": AutoModelForSequenceClassification,
    "translation": AutoModelForSeq2SeqLM,
}
