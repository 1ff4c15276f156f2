"""Tiny, randomly initialised stand-ins for the Jina embedding architectures, built offline.

  qwen3       ~ jina-embeddings-v5-text-small (Qwen3 decoder, last-token pooling, left padding)
  eurobert    ~ jina-embeddings-v5-text-nano  (EuroBERT encoder)
  xlm-roberta ~ jina-embeddings-v3            (XLM-RoBERTa encoder, mean pooling)

Each is a sentence-transformers folder (Transformer -> Pooling -> Normalize) with one peft
LoRA adapter per task under ``adapters/<task>/`` and the v5 prompts in
``config_sentence_transformers.json``: the layout of a Jina v5 base repo. Built in ~0.2 s
each. Adapted from the project's reference recipe (``tiny_models_recipe.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .tiny_clip import build_tiny_clip, sample_images  # noqa: F401  (the multimodal stand-in)

TASKS = ("retrieval", "text-matching", "clustering", "classification")
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Embeddings map text to vectors for semantic search.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Le renard brun rapide saute par-dessus le chien paresseux.",
    "El zorro marrón rápido salta sobre el perro perezoso.",
    "Retrieval augmented generation needs a good embedding model.",
    "Clustering groups similar documents; classification assigns labels.",
    "日本語のテキストも扱えます。 Ещё немного текста по-русски.",
] * 4

# Per architecture: special tokens and their roles, pooling, LoRA target layers.
ARCH: dict[str, dict[str, Any]] = {
    "qwen3": dict(
        specials=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        roles=dict(eos_token="<|endoftext|>", pad_token="<|endoftext|>"),
        template=("$A <|endoftext|>", "$A <|endoftext|> $B:1 <|endoftext|>:1"),
        pooling="lasttoken",
        padding_side="left",
        lora_std=0.05,
        targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    ),
    "eurobert": dict(
        specials=["<|begin_of_text|>", "<|end_of_text|>", "<|pad|>", "<|mask|>"],
        roles=dict(
            bos_token="<|begin_of_text|>",
            eos_token="<|end_of_text|>",
            pad_token="<|pad|>",
            mask_token="<|mask|>",
        ),
        template=(
            "<|begin_of_text|> $A <|end_of_text|>",
            "<|begin_of_text|> $A <|end_of_text|> $B:1 <|end_of_text|>:1",
        ),
        pooling="mean",
        padding_side="right",
        lora_std=0.05,  # v5-nano's real pooling: see its card
        targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    ),
    "xlm-roberta": dict(
        specials=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],  # ids 0..4 as in XLM-R (pad=1)
        roles=dict(
            bos_token="<s>",
            eos_token="</s>",
            pad_token="<pad>",
            unk_token="<unk>",
            mask_token="<mask>",
            cls_token="<s>",
            sep_token="</s>",
        ),
        template=("<s> $A </s>", "<s> $A </s> </s> $B </s>"),
        pooling="mean",
        padding_side="right",
        lora_std=0.1,  # post-LN damps LoRA: larger std
        targets=["query", "key", "value", "output.dense", "intermediate.dense"],  # not pooler
    ),
}


def available_archs() -> list[str]:
    """EuroBertConfig ships with transformers 5.x only (4.57 lacks it)."""
    import transformers

    return [a for a in ARCH if a != "eurobert" or hasattr(transformers, "EuroBertConfig")]


def build_tokenizer(arch: str, vocab_size: int = 400) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    spec = ARCH[arch]
    tok = Tokenizer(models.BPE(unk_token="<unk>" if "<unk>" in spec["specials"] else None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=spec["specials"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    single, pair = spec["template"]
    tok.post_processor = processors.TemplateProcessing(
        single=single,
        pair=pair,
        special_tokens=[(t, tok.token_to_id(t)) for t in spec["specials"] if t in single + pair],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, model_max_length=512, padding_side=spec["padding_side"], **spec["roles"]
    )
    return fast


def build_config(arch: str, tok: Any, hidden: int = 64, layers: int = 2) -> Any:
    common = dict(
        vocab_size=len(tok),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=2 * hidden,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    if arch == "qwen3":
        from transformers import Qwen3Config

        return Qwen3Config(
            **common,
            num_key_value_heads=2,
            head_dim=hidden // 4,
            max_position_embeddings=512,
            tie_word_embeddings=True,
        )
    if arch == "eurobert":
        from transformers import EuroBertConfig

        return EuroBertConfig(
            **common,
            num_key_value_heads=4,
            max_position_embeddings=512,
            bos_token_id=tok.bos_token_id,
            mask_token_id=tok.mask_token_id,
        )
    if arch == "xlm-roberta":
        from transformers import XLMRobertaConfig

        return XLMRobertaConfig(
            **common, bos_token_id=tok.bos_token_id, max_position_embeddings=514, type_vocab_size=1
        )
    raise ValueError(arch)


def _st_modules() -> tuple[Any, Any, Any]:
    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    except ImportError:  # 3.x - 5.x
        from sentence_transformers.models import Normalize, Pooling, Transformer  # type: ignore[no-redef]
    return Transformer, Pooling, Normalize


def build(
    arch: str,
    out_dir: str | Path,
    tasks: tuple[str, ...] = TASKS,
    seed: int = 0,
    lora_r: int = 4,
    lora_std: float | None = None,
    check_texts: list[str] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write a sentence-transformers model dir + adapters/<task>/ for each task.

    Returns (out_dir, {task: embeddings computed in memory}) so a reload can be checked."""
    import shutil

    import torch
    from peft import LoraConfig, get_peft_model
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    Transformer, Pooling, Normalize = _st_modules()
    out = Path(out_dir)
    hf_dir = out.parent / f".{out.name}-hf"  # plain transformers checkpoint, read by Transformer()
    torch.manual_seed(seed)
    tok = build_tokenizer(arch)
    AutoModel.from_config(build_config(arch, tok)).save_pretrained(hf_dir)
    tok.save_pretrained(hf_dir)
    first = Transformer(str(hf_dir), max_seq_length=512)
    dim = (
        getattr(first, "get_embedding_dimension", None) or first.get_word_embedding_dimension
    )  # ST 6 / ST <6
    pool = Pooling(dim(), pooling_mode=ARCH[arch]["pooling"])
    st = SentenceTransformer(modules=[first, pool, Normalize()], device="cpu")
    st.prompts = {"query": "Query: ", "document": "Document: "}  # as in the v5 base repos
    st.default_prompt_name = None
    st.save(str(out))  # base only: save BEFORE injecting LoRA (see note in load())

    # Default LoRA init sets B = 0, so every adapter would equal the base model: draw both A and
    # B from N(0, lora_std) instead (cos(adapter, base) then about 0.6-0.9 on these models).
    std: float = ARCH[arch]["lora_std"] if lora_std is None else lora_std
    peft_model: Any = None
    for i, task in enumerate(tasks):
        cfg = LoraConfig(
            r=lora_r,
            lora_alpha=2 * lora_r,
            target_modules=ARCH[arch]["targets"],
            init_lora_weights=False,
            lora_dropout=0.0,
        )
        if peft_model is None:
            hf_model = getattr(first, "model", None) or first.auto_model  # ST >= 5.4 / ST < 5.4
            peft_model = get_peft_model(hf_model, cfg, adapter_name=task)
        else:
            peft_model.add_adapter(task, cfg)
        g = torch.Generator().manual_seed(seed + 1 + i)
        with torch.no_grad():
            for name, p in peft_model.named_parameters():
                if f".{task}." in name and "lora_" in name:
                    p.copy_(torch.randn(p.shape, generator=g) * std)
    peft_model.save_pretrained(str(out / "adapters"), selected_adapters=list(tasks))
    shutil.rmtree(hf_dir)
    for task in tasks:  # drop the temp path peft wrote as base_model_name_or_path
        f = out / "adapters" / task / "adapter_config.json"
        f.write_text(json.dumps({**json.loads(f.read_text()), "base_model_name_or_path": None}, indent=2))
    ref = {}
    for task in tasks:  # the LoRA layers now sit inside st's own model
        peft_model.set_adapter(task)
        ref[task] = st.encode(check_texts or ["check"], convert_to_tensor=True)
    return out, ref


def build_cross_encoder(out_dir: str | Path, arch: str = "xlm-roberta", seed: int = 0) -> Path:
    """Tiny random reranker (sequence classification, 1 label) loadable by sentence_transformers.CrossEncoder."""
    import torch
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(seed)
    tok = build_tokenizer(arch)
    cfg = build_config(arch, tok)
    cfg.num_labels = 1
    AutoModelForSequenceClassification.from_config(cfg).save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return Path(out_dir)


def load(model_dir: str | Path, tasks: tuple[str, ...] = TASKS) -> Any:
    """Reload offline and attach every adapter found under adapters/.

    Do not st.save() a model with adapters attached: it writes only adapter_config.json +
    adapter_model.safetensors (no base weights) and the reload then goes to the Hub."""
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    for task in tasks:
        st.load_adapter(str(Path(model_dir) / "adapters" / task), adapter_name=task)
    return st


def encode(st: Any, texts: list[str], task: str) -> Any:
    st.set_adapter(task)  # global switch on the model: guard with a lock if threads share it
    return st.encode(texts, convert_to_tensor=True)


#: The markers jina-colbert-v2 uses (added tokens, as PyLate adds its prefixes).
COLBERT_MARKERS = ("[QueryMarker]", "[DocumentMarker]")


def build_tiny_colbert(
    out_dir: str | Path, *, seed: int = 0, query_length: int = 32, document_length: int = 180
) -> Path:
    """Tiny random ColBERT checkpoint in PyLate's layout, like jina-colbert-v2 (see fake_multivector).

    Built with sentence-transformers' own modules: an XLM-R Transformer (hidden 64, the markers
    ``[QueryMarker]`` / ``[DocumentMarker]`` added to its tokenizer) and a bias-free
    ``Dense(64 -> 128)``. Written as PyLate writes it: ``modules.json`` naming
    ``pylate.models.Dense.Dense``, a Dense config without module IO names, and
    ``config_sentence_transformers.json`` with ``model_type: ColBERT``, ``query_prefix``,
    ``document_prefix``, ``query_length``, ``document_length``, ``attend_to_expansion_tokens``
    and the punctuation ``skiplist_words``. ``MultiVectorEncoder`` adds MultiVectorMask and the
    per-token Normalize on load (PyLate v3 checkpoints have them inline). ~0.3 s.
    """
    import shutil
    import string

    import torch
    from transformers import AutoModel

    try:
        from sentence_transformers.base.modules.dense import Dense
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Dense  # type: ignore[no-redef]
    Transformer, _, _ = _st_modules()
    out = Path(out_dir)
    hf_dir = out.parent / f".{out.name}-hf"
    torch.manual_seed(seed)
    tok = build_tokenizer("xlm-roberta")
    tok.add_tokens(list(COLBERT_MARKERS))
    AutoModel.from_config(build_config("xlm-roberta", tok)).save_pretrained(hf_dir)
    tok.save_pretrained(hf_dir)
    first = Transformer(str(hf_dir), max_seq_length=512)
    first.save(str(out))
    dense = Dense(64, 128, bias=False, activation_function=torch.nn.Identity())
    (out / "1_Dense").mkdir(parents=True, exist_ok=True)
    dense.save(str(out / "1_Dense"))
    shutil.rmtree(hf_dir)
    dense_config = json.loads((out / "1_Dense" / "config.json").read_text())
    for key in ("module_input_name", "module_output_name"):  # PyLate's Dense predates them
        dense_config.pop(key, None)
    (out / "1_Dense" / "config.json").write_text(json.dumps(dense_config, indent=2))
    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 512, "do_lower_case": False})
    )
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Dense", "type": "pylate.models.Dense.Dense"},
    ]
    (out / "modules.json").write_text(json.dumps(modules, indent=2))
    config = {
        "model_type": "ColBERT",
        "query_prefix": COLBERT_MARKERS[0],
        "document_prefix": COLBERT_MARKERS[1],
        "query_length": query_length,
        "document_length": document_length,
        "attend_to_expansion_tokens": True,
        "skiplist_words": list(string.punctuation),
        "similarity_fn_name": "MaxSim",
        "prompts": {},
        "default_prompt_name": None,
    }
    (out / "config_sentence_transformers.json").write_text(json.dumps(config, indent=2))
    return out
