"""Mistake: upload_folder's arguments by position (it takes keyword arguments only), and no create_repo first."""

CHECK = "upload_all() creates the model repository, uploads its folder and pushes the tickets and their card"
MESSAGE = "keyword arguments only"


def upload_all():
    HfApi().upload_folder(HUB_REPO_ID, MODEL_REPO_DIR)
    tickets.push_to_hub(HUB_DATASET_ID, private=True)
    dataset_card.push_to_hub(HUB_DATASET_ID)
