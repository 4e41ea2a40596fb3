"""Mistake: pushes every split, the grader's hidden test tickets too."""

from helpers.challenge.task import load_splits

CHECK = "upload_all() creates the model repository, uploads its folder and pushes the tickets and their card"
MESSAGE = "the test split stays private"


def upload_all():
    HfApi().create_repo(HUB_REPO_ID, private=True, exist_ok=True)
    HfApi().upload_folder(repo_id=HUB_REPO_ID, folder_path=MODEL_REPO_DIR)
    load_splits().push_to_hub(HUB_DATASET_ID, private=True)
    dataset_card.push_to_hub(HUB_DATASET_ID)
