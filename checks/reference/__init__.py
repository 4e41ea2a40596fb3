"""The LoRA challenge's reference solution, which the challenge's checks compare against (:mod:`.lora`)."""
