"""The surface that framework adapters build on: import this, never a private module.

``langchain-jina-embeddings``, ``llama-index-jina-embeddings`` and ``jina-embeddings-haystack``
import only ``jina_embeddings`` and ``jina_embeddings.integration`` (a test enforces it), so
the core's internals can change without breaking them. Your own adapter should do the same.

What is here:

* the option table (:func:`option_specs`, :class:`OptionSpec`): every option's name, type,
  default and documentation, declared once in the core. Adapters derive their fields or
  parameters from it (:func:`pydantic_fields` for pydantic-based frameworks) instead of
  restating them; the test kit's parity suite checks the result.
* the backend table (:data:`BACKENDS`, :func:`backend_row`): names, default batch sizes,
  capabilities.
* the key: :class:`APIKey`, :func:`resolve_api_key`, :data:`API_KEY_ENV_VARS` and
  :class:`KeyRef`, which holds the one rule for copying and pickling a key.
* :func:`group_chunks`: late chunking's documents from a framework's source-document fields
  (then ``Embedder.embed_chunk_groups``).
* input checks that frameworks run before their own bookkeeping (:func:`check_query`,
  :func:`check_texts`).

Example::

    from jina_embeddings.integration import option_specs

    for option in option_specs("embedding"):
        print(option.name, option.default, option.doc)
"""

from __future__ import annotations

import functools
import operator
import typing
from collections.abc import Mapping
from typing import Any

from ._apikey import ENV_VARS as API_KEY_ENV_VARS
from ._apikey import APIKey, KeyRef, resolve_api_key
from ._backends.table import BACKENDS, BackendRow, backend_row, default_batch_sizes
from ._late_chunking import group_chunks
from ._options import Kind, OptionSpec, option_specs
from ._validation import check_query, check_text, check_texts

__all__ = [
    "API_KEY_ENV_VARS",
    "BACKENDS",
    "APIKey",
    "BackendRow",
    "KeyRef",
    "Kind",
    "OptionSpec",
    "adapter_options",
    "backend_row",
    "check_query",
    "check_text",
    "check_texts",
    "default_batch_sizes",
    "group_chunks",
    "document_vectors_from",
    "held_key",
    "learned_ranges",
    "option_specs",
    "pydantic_fields",
    "resolve_api_key",
]


def adapter_options(
    kind: Kind, *, exclude: tuple[str, ...] = (), defaults: Mapping[str, Any] | None = None
) -> tuple[OptionSpec, ...]:
    """The options an adapter exposes: the core's, minus ``exclude``, with framework ``defaults``.

    A framework default differs from the core's only where the framework it replaces has a
    convention users rely on (LangChain's ``JinaRerank(top_n=3)``); say why where you pass it.
    """
    from dataclasses import replace

    defaults = dict(defaults or {})
    specs = tuple(
        replace(o, default=defaults.pop(o.name, o.default))
        for o in option_specs(kind)
        if o.name not in exclude
    )
    if defaults:
        raise TypeError(f"not options of {kind}: {', '.join(sorted(defaults))}")
    return specs


def pydantic_fields(options: tuple[OptionSpec, ...], *, field: Any) -> dict[str, Any]:
    """``{name: (annotation, field(default, description=doc))}`` for ``pydantic.create_model``.

    ``field`` is the framework's ``Field`` (LlamaIndex re-exports pydantic's through its bridge).
    Values are validated by the core when the adapter builds its core object, not by pydantic
    constraints: one rule, one place.
    """
    return {o.name: (_loosen(o.annotation), field(default=o.default, description=o.doc)) for o in options}


def _loosen(annotation: Any) -> Any:
    """``Literal[...]`` (and unions holding one) -> ``str``: the core checks the value and
    raises its own ``InvalidInputError`` naming the valid ones, in every framework alike."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return str
    if args and any(typing.get_origin(a) is typing.Literal for a in args):
        loose = tuple(dict.fromkeys(_loosen(a) for a in args))
        return functools.reduce(operator.or_, loose)
    return annotation


def held_key(core_object: Any) -> APIKey | None:
    """The key an ``Embedder`` or ``Reranker`` holds (``None`` after unpickling an argument key)."""
    ref = getattr(core_object, "_api_key", None)
    return ref.key if isinstance(ref, KeyRef) else None


def learned_ranges(embedder: Any) -> list[list[float]] | None:
    """int8/uint8 ranges an ``Embedder`` learned (not given), as JSON-ready lists, else ``None``.

    Adapters write them into their serialized config (``to_dict``, ``dumpd``) when the user gave
    none, so the query side loaded from that config quantizes with the same ranges.
    """
    if embedder is None or embedder.options.quantization_ranges is not None:
        return None
    ranges = embedder.quantization_ranges
    return None if ranges is None else [[float(x) for x in row] for row in ranges]


def document_vectors_from(reranker: Any, metadatas: Any) -> list[Any] | None:
    """Stored token vectors for ``Reranker.rerank(..., document_vectors=)``, read from metadata.

    Each framework document's metadata (LangChain ``Document.metadata``, LlamaIndex node
    ``metadata``, Haystack ``Document.meta``) may hold its token vectors under
    :data:`~jina_embeddings.TOKEN_VECTORS_KEY` (``"jina_token_vectors"``): a blob or base64
    text from :func:`~jina_embeddings.encode_token_vectors`, or a (tokens, d) matrix.

    Returns:
        ``None`` when ``reranker`` is not multi-vector or no document has them (encode all),
        else one entry per document (``None`` where missing).
    """
    from ._multivector_io import TOKEN_VECTORS_KEY

    if getattr(getattr(reranker, "spec", None), "kind", None) != "multivector":
        return None
    found = [m.get(TOKEN_VECTORS_KEY) if isinstance(m, Mapping) else None for m in metadatas]
    return found if any(v is not None for v in found) else None
