"""Mistake: trains for one epoch only (a fresh LoRA model, so the solution's adapter stays as it is)."""

import dataclasses

CHECK = "trainer trained LoRA for at least 3 epochs with a validation loss after every epoch"
MESSAGE = "the trainer stopped at epoch 1.00"

trainer = Trainer(
    model=get_peft_model(AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=torch.float32), make_lora_config()),
    args=dataclasses.replace(args, num_train_epochs=1, output_dir=str(OUTPUT_DIR / "run-one-epoch"), disable_tqdm=True),
    train_dataset=dataset["train"],
    eval_dataset=dataset["validation"],
    data_collator=collator,
    processing_class=tokenizer,
)
trainer.train()
