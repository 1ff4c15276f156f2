"""A tiny stand-in for jina-embeddings-v4's own code (``encode_text``), built offline.

No v4 weights can be downloaded here, so the multi-vector path through the model's own code
is tested on a folder that ships the same entry point: ``AutoModel.from_pretrained(folder,
trust_remote_code=True)`` loads ``modeling_tiny_v4.TinyV4Model``, whose
``encode_text(texts, task, prompt_name, return_multivector, return_numpy, batch_size, ...)``
has v4's signature: ``prompt_name`` "query" / "passage" prepends ``Query: `` / ``Passage: ``,
``task`` picks a per-task layer (v4's LoRA adapters), and ``return_multivector=True`` gives
one 128-d unit vector per token (v4's multi-vector projector). Random weights; shapes only.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["build_tiny_v4"]

_CONFIG = """
from transformers import PretrainedConfig


class TinyV4Config(PretrainedConfig):
    model_type = "tiny_v4"

    def __init__(self, vocab_size=400, hidden_size=32, multivector_dim=128, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.multivector_dim = multivector_dim
        super().__init__(**kwargs)
"""

_MODELING = """
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from .configuration_tiny_v4 import TinyV4Config

TASKS = ("retrieval", "text-matching", "code")
PREFIXES = {"query": "Query: ", "passage": "Passage: "}


class TinyV4Model(PreTrainedModel):
    config_class = TinyV4Config
    base_model_prefix = "tiny_v4"

    def __init__(self, config):
        super().__init__(config)
        self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)
        self.adapters = torch.nn.ModuleDict(
            {t.replace("-", "_"): torch.nn.Linear(config.hidden_size, config.hidden_size) for t in TASKS}
        )
        self.multi_vector_projector = torch.nn.Linear(config.hidden_size, config.multivector_dim)
        self._tokenizer = None
        self.post_init()

    @classmethod
    def from_pretrained(cls, path, *args, **kwargs):
        # as v4 does with its processor: the tokenizer comes from the same place as the weights
        model = super().from_pretrained(path, *args, **kwargs)
        keep = ("cache_dir", "revision", "local_files_only")
        model._tokenizer = PreTrainedTokenizerFast.from_pretrained(path, **{k: kwargs[k] for k in keep if k in kwargs})
        return model

    def tokenizer(self):
        return self._tokenizer

    @torch.no_grad()
    def encode_text(
        self,
        texts,
        task=None,
        max_length=32768,
        batch_size=8,
        return_multivector=False,
        return_numpy=False,
        truncate_dim=None,
        prompt_name=None,
    ):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}")
        prefix = PREFIXES.get(prompt_name or "query", "Query: ")
        out = []
        for text in texts:
            ids = self.tokenizer()(prefix + text, truncation=True, max_length=max_length)["input_ids"]
            hidden = torch.tanh(self.adapters[task.replace("-", "_")](self.embed(torch.tensor(ids))))
            if return_multivector:
                vec = torch.nn.functional.normalize(self.multi_vector_projector(hidden), dim=-1)
            else:
                vec = torch.nn.functional.normalize(hidden.mean(0)[:truncate_dim], dim=-1)
            out.append(vec.numpy() if return_numpy else vec)
        return out
"""


def build_tiny_v4(out_dir: str | Path, *, seed: int = 0) -> Path:
    """Write the stand-in folder (config, code, random weights, tiny tokenizer); ~0.2 s."""
    import torch

    from .tiny_models import build_tokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "configuration_tiny_v4.py").write_text(_CONFIG)
    (out / "modeling_tiny_v4.py").write_text(_MODELING)
    tok = build_tokenizer("qwen3")
    tok.save_pretrained(out)
    config = {
        "model_type": "tiny_v4",
        "architectures": ["TinyV4Model"],
        "auto_map": {
            "AutoConfig": "configuration_tiny_v4.TinyV4Config",
            "AutoModel": "modeling_tiny_v4.TinyV4Model",
        },
        "vocab_size": len(tok),
        "hidden_size": 32,
        "multivector_dim": 128,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    from transformers import AutoConfig, AutoModel

    torch.manual_seed(seed)
    cfg = AutoConfig.from_pretrained(str(out), trust_remote_code=True, local_files_only=True)
    model = AutoModel.from_config(cfg, trust_remote_code=True)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.5)
    model.save_pretrained(str(out))
    return out


def cache_as_hub_repo(
    folder: str | Path, cache_dir: str | Path, repo_id: str = "jinaai/jina-embeddings-v4"
) -> Path:
    """Lay ``folder`` out as ``repo_id`` in a Hugging Face cache (``cache_folder=cache_dir``), so the
    registry name loads it offline through the same path as the real repo."""
    import hashlib
    import shutil

    # a revision named after the code, so transformers' module cache never serves stale code
    revision = hashlib.sha1((_CONFIG + _MODELING).encode()).hexdigest()
    root = Path(cache_dir) / f"models--{repo_id.replace('/', '--')}"
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(revision)
    snapshot = root / "snapshots" / revision
    shutil.copytree(folder, snapshot, dirs_exist_ok=True)
    return Path(cache_dir)
