"""Mistake: "reloads" by taking the base model again, without the adapter."""

CHECK = "reloaded is the adapter on a fresh base model, and it answers new messages in JSON"
MESSAGE = "reloaded is a LlamaForCausalLM"

reloaded = base_model
