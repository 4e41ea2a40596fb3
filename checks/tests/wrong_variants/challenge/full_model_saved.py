"""Mistake: saves the whole merged model (135 M weights) instead of the adapter."""

import tempfile
from pathlib import Path

CHECK = "ADAPTER_DIR holds the trained LoRA adapter, not a full model"
MESSAGE = "holds full model weights"

_merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=torch.float32),
                                    ADAPTER_DIR).merge_and_unload()
ADAPTER_DIR = Path(tempfile.mkdtemp(prefix="full-model-"))
_merged.save_pretrained(ADAPTER_DIR)
