"""JupyterLab in a real browser: what a learner sees after the set-up cell and a check cell.

Starts JupyterLab as ``make lab`` does (the .venv's ``jupyter lab``, the workshop kernel picked from each notebook's
metadata) on a copy of the notebooks, and drives Debian's ``chromium`` with Playwright for Python, as a learner
would: open the notebook, wait for the kernel, click a cell, Shift+Enter. Screenshots go to ``build/screens/``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from helpers.paths import BUILD_DIR, NOTEBOOKS_DIR, SOLUTIONS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.browser]

KERNEL_DISPLAY_NAME = "Python (transformers-workshop)"
SCREENS_DIR = BUILD_DIR / "screens"
LEARNER_NOTEBOOKS = sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))
FEEDBACK_CELLS = {"05_reflection_takeaways_and_production.ipynb": ("from checks.self_assessment",)}
"""The cells that give feedback, by the text that starts them: ``helpers.check(`` unless listed (the Reflection's check
needs its Hub task done; its self-assessment table, a cell that imports what it uses, is the feedback to look at)."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
"""As this machine's probe starts Chromium: without the background-networking flags the closed network refuses
Chromium's own connections, many at a time."""
START_SECONDS, CELL_SECONDS = 120, 180
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
"""The notebook in front (JupyterLab keeps earlier tabs of the session open, hidden)."""
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'
TINY_TRAINING = '''import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

tiny_tokenizer = AutoTokenizer.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
rows = tiny_tokenizer(["Where is my order?", "Cancel my order, please."] * 4, padding="max_length", max_length=12)
rows["labels"] = rows["input_ids"]
tiny_trainer = Trainer(
    model=AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct", dtype=torch.float32),
    args=TrainingArguments(output_dir="tiny-run", max_steps=4, per_device_train_batch_size=2, report_to="none",
                           save_strategy="no", logging_steps=2),
    train_dataset=Dataset.from_dict(dict(rows)),
)
tiny_trainer.train()'''
"""A cell the test types into the solution notebook: a 4-step Trainer run, to see the Trainer's progress bar."""


def _chromium() -> str:
    found = os.environ.get("WORKSHOP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "No Chromium: install Debian's package (`apt-get install chromium`) or set WORKSHOP_CHROMIUM."
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a copy of notebooks/ and solutions/04 (nothing the browser saves touches the repository)."""
    root = tmp_path_factory.mktemp("lab")
    for name in LEARNER_NOTEBOOKS:
        shutil.copy2(NOTEBOOKS_DIR / name, root / name)
    shutil.copy2(SOLUTIONS_DIR / "04_challenge_lora_finetuning.ipynb", root / "solution_04.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    log = (root / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", f"--port={port}", f"--notebook-dir={root}",
         f"--IdentityProvider.token={token}", f"--LabApp.workspaces_dir={root / 'workspaces'}"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(root / 'jupyterlab.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", token, root
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _first_code_cell(path: Path, text: str) -> int:
    cells = nbformat.read(path, as_version=4).cells
    return next(i for i, cell in enumerate(cells) if cell.cell_type == "code" and text in cell.source)


def _open(browser, lab, name: str):
    from playwright.sync_api import expect

    url, token, _ = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/{name}?token={token}&reset")  # reset: no tabs restored from before
    status = page.locator("#jp-main-statusbar")
    expect(status).to_contain_text("Idle", timeout=START_SECONDS * 1000)  # the kernel started and is ready
    return page


def _run_cell(page, index: int):
    """Click cell ``index`` and press Shift+Enter, as a learner does; wait until the kernel is idle again."""
    from playwright.sync_api import expect

    cell = page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    cell.click()
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputPrompt")).not_to_contain_text("*", timeout=CELL_SECONDS * 1000)
    expect(cell.locator(".jp-InputPrompt")).to_contain_text(r"[", timeout=CELL_SECONDS * 1000)
    return cell


@pytest.mark.parametrize("name", LEARNER_NOTEBOOKS)
def test_a_learner_sees_the_workshop_kernel_and_a_rendered_check_table(browser, lab, name):
    from playwright.sync_api import expect

    _, _, root = lab
    page = _open(browser, lab, name)
    try:
        panel = page.locator(PANEL)
        expect(panel.locator(".jp-Toolbar-kernelName")).to_have_text(KERNEL_DISPLAY_NAME)
        setup = _run_cell(page, _first_code_cell(root / name, "helpers.setup("))
        expect(setup.locator(".jp-OutputArea-output").first).to_contain_text("device=")
        for text in FEEDBACK_CELLS.get(name, ("helpers.check(",)):
            check = _run_cell(page, _first_code_cell(root / name, text))
        table = check.locator(".jp-OutputArea-output table").first
        expect(table).to_be_visible()
        rows = table.locator("tr")
        assert rows.count() >= 2  # a header and at least one check
        if name not in FEEDBACK_CELLS:
            expect(check.locator(".jp-OutputArea-output").first).to_contain_text("score")
        for cell in (setup, check):  # no traceback, no warning on stderr
            assert cell.locator(STDERR).count() == 0, cell.locator(STDERR).first.inner_text()
        SCREENS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENS_DIR / f"{Path(name).stem}.png")
    finally:
        page.close()


def test_the_trainer_progress_bar_renders_in_a_solution_notebook(browser, lab):
    """The Trainer's bar in a notebook: an HTML <progress> element and a loss table (NotebookProgressCallback)."""
    from playwright.sync_api import expect

    _, _, root = lab
    page = _open(browser, lab, "solution_04.ipynb")
    try:
        _run_cell(page, _first_code_cell(root / "solution_04.ipynb", "helpers.setup("))
        page.keyboard.press("b")  # command mode after Shift+Enter: insert a cell below and type into it
        page.keyboard.press("Enter")
        page.keyboard.insert_text(TINY_TRAINING)
        page.keyboard.press("Shift+Enter")
        active = page.locator(f"{PANEL} .jp-Notebook .jp-Cell").filter(has_text="tiny_trainer.train()")
        progress = active.locator(".jp-OutputArea-output progress")
        expect(progress).to_have_attribute("value", "4", timeout=CELL_SECONDS * 1000)
        expect(progress).to_have_attribute("max", "4")
        expect(active.locator(".jp-OutputArea-output table")).to_contain_text("Training Loss")
        assert active.locator(".jp-OutputArea-output.jp-mod-error, " + STDERR).filter(
            has_text="Error").count() == 0
        active.scroll_into_view_if_needed()
        SCREENS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENS_DIR / "solution_04_trainer_progress.png")
    finally:
        page.close()
