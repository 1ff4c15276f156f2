"""Models newer than the registry work on remote backends (issue 12, item 11).

An unknown name is sent as given, with one warning per name; the family follows from the
name where it is unambiguous, otherwise ``task`` is the API's own string. Locally, an
unknown name is still ``ModelNotFoundError`` (nothing could be loaded).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, ModelNotFoundError, Reranker
from jina_embeddings._models import UnregisteredModelWarning
from jina_testkit.fake_api import expected_vector

OMNI = "jina-embeddings-v5-omni-small"

# (model, task, backend, task sent for documents, task sent for queries)
ROWS = [
    (OMNI, "retrieval", "api", "retrieval.passage", "retrieval.query"),
    (OMNI, "text-matching", "api", "text-matching", "text-matching"),
    ("jina-embeddings-v5-omni-nano", None, "api", "retrieval.passage", "retrieval.query"),
    ("acme-embed-7", "search_document", "api", "search_document", "search_document"),
    ("acme-embed-7", None, "api", None, None),
]


@pytest.mark.parametrize(("model", "task", "backend", "doc_task", "query_task"), ROWS)
def test_unknown_names_are_sent_as_given_with_the_inferred_tasks(
    fake_jina_server_factory: Any, model: str, task: str | None, backend: str, doc_task: str, query_task: str
) -> None:
    srv = fake_jina_server_factory(
        native_dims={OMNI: 1024, "jina-embeddings-v5-omni-nano": 768, "acme-embed-7": 64}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnregisteredModelWarning)
        emb = Embedder(model, backend=backend, api_key="jina_test", base_url=srv.base_url, task=task)
    with emb:
        docs = emb.embed_documents(["a document"])
        query = emb.embed_query("a query")
    bodies = [r.body for r in srv.requests]
    assert [b["model"] for b in bodies] == [model, model]
    assert [b.get("task") for b in bodies] == [doc_task, query_task]
    width = srv.native_dims[model]
    np.testing.assert_allclose(
        docs.vectors[0], expected_vector(model, doc_task, "a document", native_dim=width), atol=1e-6
    )
    assert query.vectors.shape == (1, width)


def test_the_warning_is_shown_once_per_name(srv: Any) -> None:
    name = "jina-embeddings-v5-omni-small-warn-test"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(3):
            Embedder(name, backend="api", api_key="jina_test", base_url=srv.base_url).close()
    ours = [w for w in seen if issubclass(w.category, UnregisteredModelWarning)]
    assert len(ours) == 1 and name in str(ours[0].message) and "v5" in str(ours[0].message)
    assert ours[0].filename == __file__  # it points at the caller's line


def test_a_newer_reranker_works(srv: Any, make_reranker: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnregisteredModelWarning)
        rr = make_reranker("jina-reranker-v3.5")
    ranked = rr.rerank("capital of germany", ["paris is in france", "berlin is the capital of germany"])
    assert ranked[0].index == 1 and srv.requests[0].body["model"] == "jina-reranker-v3.5"


@pytest.mark.parametrize(
    ("cls", "model", "kwargs"),
    [
        (Embedder, "jina-reranker-v3.5", {"backend": "api"}),  # named like a reranker
        (Reranker, "jina-embeddings-v5-omni-small", {"backend": "api"}),
        (Embedder, "jina-embeddings-v5-omni-small", {"backend": "local"}),  # nothing to load locally
        (Embedder, "not a model", {"backend": "api"}),
    ],
)
def test_names_that_cannot_work_still_fail_before_any_request(
    cls: Any, model: str, kwargs: dict[str, Any]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnregisteredModelWarning)
        with pytest.raises(ModelNotFoundError):
            cls(model, api_key="jina_test", base_url="http://127.0.0.1:9/v1", **kwargs)
