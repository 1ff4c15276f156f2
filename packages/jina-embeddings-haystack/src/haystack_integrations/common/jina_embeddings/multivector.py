"""Where Haystack documents keep token vectors (late interaction), on any Haystack version.

Haystack 3.5 added ``Document.multivector_embedding`` (a list of token vectors); the installed
haystack-ai may be older (3.4 has no such field). So:

* where ``Document`` has the field, the multi-vector document embedder writes it (a list of
  lists of floats, what Haystack's ``MaxSimRanker`` and the Qdrant / OpenSearch multivector
  retrievers read), and :class:`JinaRanker` reads it;
* where it does not, the token vectors go to ``meta["jina_token_vectors"]``
  (:data:`jina_embeddings.TOKEN_VECTORS_KEY`) as compact base64 text (float16 by default,
  each blob carrying its length), which every document store keeps, and the ranker reads
  them from there.

The ranker reads either place, so documents written by one version are read by the other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from typing import Any

from haystack import Document

from jina_embeddings import TOKEN_VECTORS_KEY, encode_token_vectors

__all__ = ["HAS_MULTIVECTOR_FIELD", "TOKEN_VECTORS_KEY", "attach_token_vectors", "stored_token_vectors"]

#: Whether the installed Haystack's ``Document`` has ``multivector_embedding`` (3.5+).
HAS_MULTIVECTOR_FIELD = "multivector_embedding" in {f.name for f in dataclasses.fields(Document)}


def attach_token_vectors(document: Document, matrix: Any, *, storage_precision: str = "float16") -> Document:
    """A copy of ``document`` carrying its token vectors (see the module docstring)."""
    if HAS_MULTIVECTOR_FIELD:
        return replace(document, multivector_embedding=[[float(x) for x in row] for row in matrix])  # type: ignore[call-arg]
    blob = encode_token_vectors(matrix, precision=storage_precision, as_text=True)  # type: ignore[arg-type]
    return replace(document, meta={**document.meta, TOKEN_VECTORS_KEY: blob})


def stored_token_vectors(documents: list[Document]) -> list[dict[str, Any]]:
    """Per document, a mapping the core's ``document_vectors_from`` reads (field first, then meta)."""
    out = []
    for doc in documents:
        field = getattr(doc, "multivector_embedding", None)
        out.append({TOKEN_VECTORS_KEY: field} if field is not None else doc.meta)
    return out
