"""The model registry: one frozen ``ModelSpec`` per Jina model, and specs read from folders.

A spec is pure data: what the model is (family, sizes, tasks, licence) and how to reach it
(Hugging Face repo, API name). How a (task, role) pair becomes an adapter, a prompt or an API
task string is decided in :mod:`jina_embeddings._tasks`, from the spec's ``family``.

Facts come from the model cards and the Jina OpenAPI schema (see the project's
``jina-facts.md``). Where sources disagree (v5-nano context length, the v5-small 768
Matryoshka size) the model card wins and the comment says so.

Example::

    >>> from jina_embeddings._models import get_spec
    >>> get_spec("jina-embeddings-v5-text-small").native_dim
    1024
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ._images import folder_modalities
from .errors import ModelNotFoundError

__all__ = [
    "MODELS",
    "V5_TASKS",
    "ModelSpec",
    "get_spec",
    "list_models",
    "remote_spec",
    "spec_from_folder",
]

Kind = Literal["embedding", "reranker", "multivector"]
Family = Literal[
    "v5",
    "v3",
    "v4",
    "code",
    "clip",
    "colbert",
    "v2",
    "generic",
    "passthrough",
    "reranker-v3",
    "reranker-m0",
    "cross-encoder",
]
AdapterLayout = Literal["peft", "merged", "task-kwarg", "prefix", "none"]

V5_TASKS = ("retrieval", "text-matching", "clustering", "classification")
V5_SMALL_DIMS = (32, 64, 128, 256, 512, 768, 1024)  # HF card + MTEB list 768; jina.ai page omits it
V5_NANO_DIMS = (32, 64, 128, 256, 512, 768)
V3_DIMS = (32, 64, 128, 256, 512, 768, 1024)
V4_DIMS = (128, 256, 512, 1024, 2048)
CODE_TASKS = ("nl2code", "qa", "code2code", "code2nl", "code2completion")
V5_PROMPTS: Mapping[str, str] = {"query": "Query: ", "document": "Document: "}


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Everything the core needs to know about one model.

    Attributes:
        name: registry name; for Jina models also the name the Jina API takes.
        hf_repo: Hugging Face repo id, or ``None`` when the model is only a folder or API.
        kind: ``embedding`` (one vector per text), ``reranker`` or ``multivector``.
        family: selects the (task, role) rules in :mod:`jina_embeddings._tasks`.
        native_dim: output size before any Matryoshka cut (``None`` if unknown).
        matryoshka_dims: sizes a local model can be cut to; ``None`` means any size up to
            ``native_dim`` is accepted (the model declares no Matryoshka training).
        api_dimensions: whether the Jina API accepts ``dimensions`` (1..native) for it.
        max_tokens: context length of the model.
        tasks: task names accepted by ``task=``; empty for models without tasks.
        default_task: used when the caller passes ``task=None``.
        pooling: how token vectors become one vector (documentation; the model applies it).
        adapter_layout: ``peft`` (LoRA adapters under ``adapters/<task>/``), ``merged``
            (one task baked into the weights), ``task-kwarg`` (the model's own ``task=``
            encode argument), ``prefix`` (instructions only) or ``none``.
        prompts: role prompts (keys ``query`` / ``document``) for families that read them
            from the model (v5 and generic folders).
        api_name: model name the Jina API expects, or ``None`` if it is not served there.
        license: SPDX-like licence id.
        trust_remote_code: whether loading needs the repo's own Python code.
        late_chunking: whether the API accepts ``late_chunking`` for it.
        matryoshka: trained so that cut vectors stay useful; ``False`` refuses ``dimensions=``
            (v2), whatever the backend.
        api_normalized: whether the API schema has a ``normalized`` field for it (v4, the
            code models and ColBERT have none: their vectors come back normalized).
        modalities: what it embeds (``("text",)``; ``("text", "image")`` for v4 and clip-v2).
        max_image_pixels: the most pixels one image may have (v4: 20 MP), ``None``: no limit.
        multivector_dim: width of its token vectors in multi-vector (late interaction) mode,
            for :class:`~jina_embeddings.MultiVectorEmbedder`; ``None``: no such mode.
        local_supported: whether the local backend can run it.
        fixed_task: for merged per-task repos, the one task baked in.
        base_model: for merged per-task repos, the registry name of the base model.
        path: for specs read from a folder, the folder.
    """

    name: str
    hf_repo: str | None
    kind: Kind = "embedding"
    family: Family
    native_dim: int | None
    matryoshka_dims: tuple[int, ...] | None = None
    api_dimensions: bool = True
    max_tokens: int
    tasks: tuple[str, ...] = ()
    default_task: str | None = None
    pooling: str = "mean"
    adapter_layout: AdapterLayout = "none"
    prompts: Mapping[str, str] = field(default_factory=dict)
    api_name: str | None = None
    license: str = "cc-by-nc-4.0"
    trust_remote_code: bool = False
    late_chunking: bool = False
    matryoshka: bool = True
    api_normalized: bool = True
    modalities: tuple[str, ...] = ("text",)
    max_image_pixels: int | None = None
    multivector_dim: int | None = None
    local_supported: bool = True
    fixed_task: str | None = None
    base_model: str | None = None
    path: str | None = None
    params: str | None = None

    @property
    def source(self) -> str:
        """What the local backend loads: the folder, else the Hugging Face repo id."""
        return self.path or self.hf_repo or self.name


def _v5(size: str, dims: tuple[int, ...], max_tokens: int, params: str, base: str) -> list[ModelSpec]:
    name = f"jina-embeddings-v5-text-{size}"
    spec = ModelSpec(
        name=name,
        hf_repo=f"jinaai/{name}",
        family="v5",
        native_dim=dims[-1],
        matryoshka_dims=dims,
        max_tokens=max_tokens,
        tasks=V5_TASKS,
        default_task="retrieval",
        pooling="last-token",
        adapter_layout="task-kwarg",
        prompts=V5_PROMPTS,
        api_name=name,
        trust_remote_code=True,
        params=f"{params} ({base})",
    )
    merged = [
        replace(
            spec,
            name=f"{name}-{task}",
            hf_repo=f"jinaai/{name}-{task}",
            tasks=(task,),
            default_task=task,
            adapter_layout="merged",
            fixed_task=task,
            base_model=name,
            # ST loads the small per-task repos without remote code; nano needs it (EuroBERT).
            trust_remote_code=(size == "nano"),
        )
        for task in V5_TASKS
    ]
    return [spec, *merged]


def _v2(lang: str, params: str) -> ModelSpec:
    name = f"jina-embeddings-v2-base-{lang}"
    return ModelSpec(
        name=name,
        hf_repo=f"jinaai/{name}",
        family="v2",
        native_dim=768,
        matryoshka_dims=None,
        api_dimensions=False,
        matryoshka=False,
        max_tokens=8192,
        license="apache-2.0",
        api_name=name,
        trust_remote_code=True,
        params=params,
    )


def _code(size: str, dim: int, dims: tuple[int, ...], params: str) -> ModelSpec:
    name = f"jina-code-embeddings-{size}"
    return ModelSpec(
        name=name,
        hf_repo=f"jinaai/{name}",
        family="code",
        native_dim=dim,
        # Matryoshka sizes are not published; the API accepts 1..native. Local: these cuts.
        matryoshka_dims=dims,
        max_tokens=32768,
        tasks=CODE_TASKS,
        default_task="nl2code",
        pooling="last-token",
        adapter_layout="prefix",
        api_name=name,
        params=params,
        api_normalized=False,
    )


_REGISTRY: list[ModelSpec] = [
    *_v5("small", V5_SMALL_DIMS, 32768, "677M", "Qwen3-0.6B-Base"),
    # Context: 8192 per config.json and the Elastic blog; the release post says 32768.
    *_v5("nano", V5_NANO_DIMS, 8192, "239M", "EuroBERT-210m"),
    ModelSpec(
        name="jina-embeddings-v3",
        hf_repo="jinaai/jina-embeddings-v3",
        family="v3",
        native_dim=1024,
        matryoshka_dims=V3_DIMS,
        max_tokens=8192,
        tasks=V5_TASKS,
        default_task="retrieval",
        adapter_layout="task-kwarg",
        api_name="jina-embeddings-v3",
        trust_remote_code=True,
        late_chunking=True,
        params="572M",
    ),
    ModelSpec(
        name="jina-embeddings-v4",
        hf_repo="jinaai/jina-embeddings-v4",
        family="v4",
        native_dim=2048,
        matryoshka_dims=V4_DIMS,
        max_tokens=32768,
        tasks=("retrieval", "text-matching", "code"),
        default_task="retrieval",
        adapter_layout="task-kwarg",
        api_name="jina-embeddings-v4",
        trust_remote_code=True,
        late_chunking=True,
        params="3.8B",
        api_normalized=False,
        modalities=("text", "image"),
        max_image_pixels=20_000_000,
        multivector_dim=128,  # return_multivector: 128-d projector, no Matryoshka cut
    ),
    _code("0.5b", 896, (64, 128, 256, 512, 896), "494M"),
    _code("1.5b", 1536, (128, 256, 512, 1024, 1536), "1.54B"),
    ModelSpec(
        name="jina-clip-v2",
        hf_repo="jinaai/jina-clip-v2",
        family="clip",
        native_dim=1024,
        matryoshka_dims=(64, 128, 256, 512, 768, 1024),
        max_tokens=8192,
        tasks=("retrieval",),
        default_task="retrieval",
        adapter_layout="prefix",
        api_name="jina-clip-v2",
        trust_remote_code=True,
        params="865M",
        modalities=("text", "image"),
    ),
    ModelSpec(
        name="jina-colbert-v2",
        hf_repo="jinaai/jina-colbert-v2",
        kind="multivector",
        family="colbert",
        api_normalized=False,
        native_dim=128,
        matryoshka_dims=(64, 96, 128),
        max_tokens=8192,
        tasks=("retrieval",),
        default_task="retrieval",
        pooling="none (late interaction)",
        api_name="jina-colbert-v2",
        trust_remote_code=True,
        multivector_dim=128,
        params="559M",
    ),
    _v2("en", "137M"),
    _v2("de", "161M"),
    _v2("es", "161M"),
    _v2("zh", "161M"),
    _v2("code", "137M"),
    ModelSpec(
        name="jina-reranker-v3",
        hf_repo="jinaai/jina-reranker-v3",
        kind="reranker",
        family="reranker-v3",
        native_dim=None,
        max_tokens=131072,
        pooling="listwise",
        api_name="jina-reranker-v3",
        trust_remote_code=True,
        params="0.6B (Qwen3)",
    ),
    ModelSpec(
        name="jina-reranker-m0",
        hf_repo="jinaai/jina-reranker-m0",
        kind="reranker",
        family="reranker-m0",
        native_dim=None,
        max_tokens=10240,
        pooling="pointwise",
        api_name="jina-reranker-m0",
        trust_remote_code=True,
        modalities=("text", "image"),
        params="2.4B (Qwen2-VL)",
    ),
    ModelSpec(
        name="jina-reranker-v2-base-multilingual",
        hf_repo="jinaai/jina-reranker-v2-base-multilingual",
        kind="reranker",
        family="cross-encoder",
        native_dim=None,
        max_tokens=1024,
        pooling="cross-encoder",
        api_name="jina-reranker-v2-base-multilingual",
        trust_remote_code=True,
        params="278M",
    ),
]

MODELS: Mapping[str, ModelSpec] = {spec.name: spec for spec in _REGISTRY}
_BY_REPO: Mapping[str, ModelSpec] = {s.hf_repo: s for s in _REGISTRY if s.hf_repo}


def list_models(kind: Kind | None = None) -> list[ModelSpec]:
    """All registry specs, optionally of one kind, in registry order."""
    return [s for s in _REGISTRY if kind is None or s.kind == kind]


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def get_spec(model: str | Path, *, kind: Kind | None = None) -> ModelSpec:
    """Resolve ``model`` (registry name, ``jinaai/...`` repo id, other repo id or folder).

    Never downloads anything: a folder is read from disk, a registry name is looked up,
    and any other ``owner/name`` id becomes a generic spec that the local backend loads
    lazily (or a remote server serves under that name).

    Raises:
        ModelNotFoundError: the name is not in the registry, not a folder and not a repo id.
    """
    key = str(model)
    spec = MODELS.get(key) or _BY_REPO.get(key)
    if spec is None:
        path = Path(key).expanduser()
        if path.is_dir():
            spec = spec_from_folder(path)
        elif _looks_like_repo_id(key):
            spec = ModelSpec(
                name=key,
                hf_repo=key,
                family="generic",
                native_dim=None,
                max_tokens=512,
                license="unknown",
                api_name=key,
            )
        else:
            known = ", ".join(s.name for s in list_models(kind))
            raise ModelNotFoundError(
                f"Unknown model {key!r}: not a registry name, a Hugging Face repo id "
                f"(owner/name) or an existing folder. Registry models: {known}",
                field="model",
            )
    if kind is not None and spec.kind != kind and spec.family != "generic":
        hint = " Use MultiVectorEmbedder (token vectors, MaxSim) or Reranker." * (spec.kind == "multivector")
        raise ModelNotFoundError(
            f"Model {spec.name!r} is {_article(spec.kind)} {spec.kind} model, not {_article(kind)} {kind} model.{hint}",
            field="model",
        )
    return spec


def _looks_like_repo_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "/", "~"))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def spec_from_folder(path: str | Path) -> ModelSpec:
    """Read a spec from a local model folder without loading any weights.

    * A folder laid out like a Jina v5 base repo (sentence-transformers files, LoRA adapters
      under ``adapters/<task>/``) becomes a ``v5`` spec: its tasks are the adapters found,
      its prompts come from ``config_sentence_transformers.json`` and its native size bounds
      ``dimensions`` (v5 Matryoshka sizes up to it).
    * A sequence-classification checkpoint without ``modules.json`` becomes a cross-encoder.
    * A ColBERT checkpoint (PyLate, Stanford, sentence-transformers 6 ``MultiVectorEncoder``)
      becomes a ``multivector`` spec (``colbert`` family) of its output width.
    * Any other sentence-transformers folder becomes a ``generic`` model with no tasks; its
      ``query`` / ``document`` prompts, if it declares them, are used per role.

    Raises:
        ModelNotFoundError: the folder holds neither ``modules.json`` nor ``config.json``.
    """
    folder = Path(path).expanduser().resolve()
    modules = folder / "modules.json"
    config = _read_json(folder / "config.json")
    if not modules.is_file() and not config:
        raise ModelNotFoundError(
            f"Folder {str(folder)!r} is not a model: it has neither modules.json "
            "(sentence-transformers) nor config.json (transformers).",
            field="model",
        )
    archs = config.get("architectures") or []
    trust = bool(config.get("auto_map")) or any(folder.glob("*.py"))
    common: dict[str, Any] = dict(
        name=folder.name,
        hf_repo=None,
        path=str(folder),
        license="unknown",
        api_name=folder.name,
        trust_remote_code=trust,
    )
    if not modules.is_file() and any("SequenceClassification" in a for a in archs):
        return ModelSpec(
            kind="reranker",
            family="cross-encoder",
            native_dim=None,
            max_tokens=int(config.get("max_position_embeddings") or 512),
            pooling="cross-encoder",
            **common,
        )
    native = _folder_dim(folder, config)
    st_config = _read_json(folder / "sentence_bert_config.json")
    max_tokens = int(st_config.get("max_seq_length") or config.get("max_position_embeddings") or 512)
    from ._multivector import is_multivector_folder  # at call time: no import cycle

    if is_multivector_folder(folder):  # a ColBERT checkpoint: MultiVectorEmbedder / MaxSim Reranker
        return ModelSpec(
            kind="multivector",
            family="colbert",
            native_dim=native,
            multivector_dim=native,
            max_tokens=max_tokens,
            tasks=("retrieval",),
            default_task="retrieval",
            pooling="none (late interaction)",
            **common,
        )
    prompts = _read_json(folder / "config_sentence_transformers.json").get("prompts") or {}
    role_prompts = {r: str(prompts[r]) for r in ("query", "document") if isinstance(prompts.get(r), str)}
    adapters = tuple(t for t in V5_TASKS if (folder / "adapters" / t / "adapter_config.json").is_file())
    if adapters:
        dims = tuple(d for d in V5_SMALL_DIMS if native is None or d < native)
        return ModelSpec(
            family="v5",
            native_dim=native,
            matryoshka_dims=(*dims, native) if native else None,
            max_tokens=max_tokens,
            tasks=adapters,
            default_task="retrieval" if "retrieval" in adapters else adapters[0],
            pooling=_folder_pooling(folder),
            adapter_layout="peft",
            prompts=role_prompts or V5_PROMPTS,
            **common,
        )
    return ModelSpec(
        family="generic",
        native_dim=native,
        max_tokens=max_tokens,
        pooling=_folder_pooling(folder),
        prompts=role_prompts,
        modalities=folder_modalities(config, _folder_modules(folder)),
        **common,
    )


def _folder_modules(folder: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []


def _folder_dim(folder: Path, config: dict[str, Any]) -> int | None:
    """Output size: the last Dense layer, else the pooling size, else ``hidden_size``."""
    dim = config.get("hidden_size") or config.get("projection_dim")  # CLIP: the shared space
    for module in _folder_modules(folder):
        sub = _read_json(folder / str(module.get("path", "")) / "config.json")
        dim = sub.get("out_features") or sub.get("word_embedding_dimension") or dim
    return int(dim) if dim else None


def _folder_pooling(folder: Path) -> str:
    for module in _folder_modules(folder):
        sub = _read_json(folder / str(module.get("path", "")) / "config.json")
        for key, value in sub.items():
            if key.startswith("pooling_mode_") and value is True:
                return key.removeprefix("pooling_mode_").replace("_tokens", "").replace("_token", "")
        if isinstance(sub.get("pooling_mode"), str):
            return str(sub["pooling_mode"])
    return "unknown"


# -- models newer than this registry (remote backends only) -----------------------------------
class UnregisteredModelWarning(UserWarning):
    """A remote backend was given a model name this version's registry does not know."""


# (name prefix, what the name says about the model); the first match wins.
_FAMILIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("jina-embeddings-v5-", dict(family="v5", tasks=V5_TASKS, default_task="retrieval", prompts=V5_PROMPTS)),
    (
        "jina-embeddings-v4",
        dict(
            family="v4",
            tasks=("retrieval", "text-matching", "code"),
            default_task="retrieval",
            modalities=("text", "image"),
        ),
    ),
    ("jina-embeddings-v3", dict(family="v3", tasks=V5_TASKS, default_task="retrieval")),
    (
        "jina-code-embeddings-",
        dict(family="code", tasks=CODE_TASKS, default_task="nl2code", api_normalized=False),
    ),
    (
        "jina-clip-",
        dict(family="clip", tasks=("retrieval",), default_task="retrieval", modalities=("text", "image")),
    ),
    ("jina-embeddings-v2-", dict(family="v2", api_dimensions=False, matryoshka=False)),
    (
        "jina-colbert-",
        dict(
            family="colbert",
            kind="multivector",
            tasks=("retrieval",),
            default_task="retrieval",
            multivector_dim=128,
        ),
    ),
    ("jina-reranker-", dict(family="cross-encoder", kind="reranker")),
)
_warned_unregistered: set[str] = set()


def remote_spec(name: str, *, kind: Kind | None = None) -> ModelSpec:
    """A spec for a model name the registry does not know, for remote backends.

    The name is sent as given. The family follows from the name where it is unambiguous
    (``jina-embeddings-v5-...`` gets the v5 tasks and roles, ``jina-reranker-...`` is a
    reranker); any other name gets the ``passthrough`` family, whose ``task`` is sent to the
    API as given. Warns once per name and process (the registry cannot check dimensions or
    limits for it).

    Raises:
        ModelNotFoundError: the name is not a model name at all, or the inferred kind differs.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or any(c.isspace() for c in name):
        raise ModelNotFoundError(
            "A remote model name must be a non-empty name without spaces.", field="model"
        )
    traits: dict[str, Any] = dict(family="passthrough")
    for prefix, found in _FAMILIES:
        if name.lower().startswith(prefix):
            traits = dict(found)
            break
    spec = ModelSpec(
        name=name,
        hf_repo=None,
        native_dim=None,
        max_tokens=131072,
        license="unknown",
        api_name=name,
        local_supported=False,
        **traits,
    )
    if kind is not None and spec.kind != kind:
        raise ModelNotFoundError(
            f"Model {name!r} is named like {_article(spec.kind)} {spec.kind} model, not {_article(kind)} {kind} model.",
            field="model",
        )
    if name not in _warned_unregistered:
        _warned_unregistered.add(name)
        if spec.kind == "reranker":
            how = "as a reranker"
        elif spec.family == "passthrough":
            how = "with task= passed to the server as given"
        else:
            how = f"with the tasks and roles of the {spec.family} family"
        warnings.warn(
            f"Model {name!r} is not in this version's registry; it is sent to the server as given, {how}. "
            "Its width and limits are not checked here. (Shown once per model name.)",
            UnregisteredModelWarning,
            stacklevel=5,
        )
    return spec
