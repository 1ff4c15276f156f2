"""The core's options as pydantic fields, generated for ``JinaEmbedding`` and ``JinaRerank``.

Each field has the name, type, default and description of the matching ``jina_embeddings``
option (read from the core's option table, never restated here), so one set of words works in
every framework. Pydantic checks types; values are checked by the core when the client is
built (``InvalidInputError`` naming the option), not re-checked here: one rule, one place.

The API key is deliberately *not* a field: fields are what ``to_dict()``, ``to_json()``,
``repr`` and pickles carry. It lives in a :class:`jina_embeddings.integration.KeyRef`.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.bridge.pydantic import Field, create_model

from jina_embeddings.integration import Kind, adapter_options, pydantic_fields

__all__ = ["core_option_fields"]

_BACKEND_DOC = (
    "'local', 'api' (Jina API or a Jina-compatible server), 'openai' (OpenAI-compatible "
    "/v1/embeddings) or 'fake' (deterministic, offline). None: 'api' if base_url or an API "
    "key (api_key= / JINA_API_KEY / JINAAI_API_KEY) is given, else 'local'."
)


def core_option_fields(
    name: str,
    kind: Kind,
    *,
    base: type,
    exclude: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> Any:
    """A pydantic model class ``name`` on ``base`` with ``backend`` and one field per core option."""
    options = adapter_options(kind, exclude=exclude, defaults=defaults)
    fields = {
        "backend": (str | None, Field(default=None, description=_BACKEND_DOC)),
        **pydantic_fields(options, field=Field),
    }
    return create_model(name, __base__=base, **fields)


def core_kwargs(obj: Any, kind: Kind, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The object's option fields as core keyword arguments."""
    names = [o.name for o in adapter_options(kind, exclude=exclude)]
    return {"backend": obj.backend, **{name: getattr(obj, name) for name in names}}
