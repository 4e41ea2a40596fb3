"""Stale-API scan: no notebook teaches a spelling that Transformers 5 / datasets 5 removed or deprecated.

Code cells are parsed (not grepped), so ``BitsAndBytesConfig(load_in_4bit=True)`` is fine while
``from_pretrained(..., load_in_4bit=True)`` is flagged.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from helpers.paths import REPO_ROOT

# keyword -> (calls it is stale in, or None for every call; what to write instead)
STALE_KEYWORDS: dict[str, tuple[set[str] | None, str]] = {
    "torch_dtype": (None, "dtype="),
    "evaluation_strategy": (None, "eval_strategy="),
    "use_auth_token": (None, "token="),
    "tokenizer": ({"Trainer", "Seq2SeqTrainer", "SFTTrainer"}, "processing_class="),
    "load_in_8bit": ({"from_pretrained", "pipeline"}, "quantization_config=BitsAndBytesConfig(load_in_8bit=True)"),
    "load_in_4bit": ({"from_pretrained", "pipeline"}, "quantization_config=BitsAndBytesConfig(load_in_4bit=True)"),
}
STALE_NAMES = {"load_metric": "evaluate.load (or a local metric module offline)"}


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


_TIMING_MAGICS = re.compile(r"^(\s*)%{1,2}(time|timeit)\b(\s+-\S+)*\s*", re.MULTILINE)


def stale_api(source: str) -> list[str]:
    """Problems found in one code cell's source (IPython syntax allowed)."""
    source = _TIMING_MAGICS.sub(r"\1", source)  # `%time model = ...` still runs Python code
    tree = ast.parse(TransformerManager().transform_cell(source))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            for keyword in node.keywords:
                rule = STALE_KEYWORDS.get(keyword.arg or "")
                if rule and (rule[0] is None or name in rule[0]):
                    problems.append(f"line {node.lineno}: {name}({keyword.arg}=...) -> use {rule[1]}")
        elif isinstance(node, (ast.Name, ast.Attribute, ast.alias)):
            ident = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", "")
            if ident in STALE_NAMES:
                problems.append(f"line {getattr(node, 'lineno', '?')}: {ident} -> use {STALE_NAMES[ident]}")
    return problems


NOTEBOOKS = sorted((REPO_ROOT / "solutions").glob("*.ipynb")) + sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_uses_the_current_api(path):
    nb = nbformat.read(path, as_version=4)
    found = [f"code cell {i}: {p}" for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code")
             for p in stale_api(cell.source)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("snippet", [
    "m = AutoModelForCausalLM.from_pretrained(p, torch_dtype=torch.float16)",
    "args = TrainingArguments('out', evaluation_strategy='epoch')",
    "trainer = Trainer(model=m, args=a, tokenizer=tok)",
    "m = AutoModelForCausalLM.from_pretrained(p, load_in_8bit=True)",
    "m = AutoModelForCausalLM.from_pretrained(p, load_in_4bit=True)",
    "tok = AutoTokenizer.from_pretrained(p, use_auth_token='hf_x')",
    "from datasets import load_metric",
    "metric = datasets.load_metric('accuracy')",
    "%time m = AutoModel.from_pretrained(p, torch_dtype='auto')",
    "%%time\nm = AutoModel.from_pretrained(p, torch_dtype='auto')",
])
def test_each_stale_spelling_is_caught(snippet):
    assert stale_api(snippet)


@pytest.mark.parametrize("snippet", [
    "m = AutoModelForCausalLM.from_pretrained(p, dtype=torch.float16)",
    "cfg = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type='nf4')",
    "cfg = BitsAndBytesConfig(load_in_8bit=True)",
    "trainer = Trainer(model=m, args=a, processing_class=tok)",
    "enc = tokenizer(text, return_tensors='pt')",
    "gen = pipeline('text-generation', model=m, tokenizer=tok)",
])
def test_current_spellings_pass(snippet):
    assert stale_api(snippet) == []
