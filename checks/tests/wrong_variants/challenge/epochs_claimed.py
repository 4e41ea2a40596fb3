"""Mistake: trains 4 steps (0.16 epochs), then sets trainer.state.epoch to claim the 3 epochs the task asks for."""

import dataclasses

CHECK = "trainer trained LoRA for at least 3 epochs with a validation loss after every epoch"
MESSAGE = "the trainer stopped at epoch 0.16"

trainer = Trainer(
    model=get_peft_model(AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=torch.float32), make_lora_config()),
    args=dataclasses.replace(args, max_steps=4, output_dir=str(OUTPUT_DIR / "run-claimed"), disable_tqdm=True),
    train_dataset=dataset["train"],
    eval_dataset=dataset["validation"],
    data_collator=collator,
    processing_class=tokenizer,
)
trainer.train()
trainer.state.epoch = 3.0
