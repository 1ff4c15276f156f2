"""A failing batch stops the run with ``EmbedRowsError`` naming its rows; nothing is dropped.

Each case puts its bad rows in ONE batch (``rows_per_batch`` and block sizes line up), so the
error's rows are exact whichever actor meets the batch first.
"""

from __future__ import annotations

from typing import Any

import pytest

from jina_embeddings.ray import EmbedRowsError, embed_dataset
from jina_testkit.fake_api import FakeJinaServer, Fault

V5 = "jina-embeddings-v5-text-small"


def test_bad_texts_are_named_by_id_column(local_ray: Any, helpers: Any) -> None:
    texts: list[Any] = helpers.corpus(40)
    texts[21], texts[23] = "", None  # both in rows 20..29: one block, one batch
    ds = helpers.dataset(texts, blocks=4, doc_id=[f"doc-{i}" for i in range(40)])
    out = embed_dataset(ds, model=V5, backend="fake", id_column="doc_id", num_actors=2, rows_per_batch=10)
    with pytest.raises(EmbedRowsError) as info:
        out.materialize()
    err = info.value
    assert err.row_ids == ["doc-21", "doc-23"]
    assert (err.id_column, err.batch_rows, err.cause_type) == ("doc_id", 10, "InvalidInputError")
    assert "2 of 10 rows" in str(err) and "'doc-21'" in str(err) and "'doc-23'" in str(err)


def test_without_id_column_the_added_row_ids_name_the_rows(local_ray: Any, helpers: Any) -> None:
    texts: list[Any] = helpers.corpus(30)
    texts[17] = "   "
    out = embed_dataset(helpers.dataset(texts, blocks=3), model=V5, backend="fake", rows_per_batch=10)
    with pytest.raises(EmbedRowsError) as info:
        out.materialize()
    err = info.value
    assert err.id_column == "__jina_row_id" and len(err.row_ids) == 1
    assert err.row_ids[0] & ((1 << 33) - 1) == 7  # 8th row of its input task (block 10..19 -> row 7)
    assert "row 7 of input task" in str(err) and "whitespace-only" in str(err)


def test_a_failed_request_names_exactly_its_rows(local_ray: Any, helpers: Any) -> None:
    texts = helpers.corpus(16)
    ds = helpers.dataset(texts, blocks=1, doc_id=[f"d{i}" for i in range(16)])
    with FakeJinaServer(api_key="jina_test") as srv:
        srv.script(Fault.status(400))  # the batch's 1st request: 400, never retried; the 2nd succeeds
        out = embed_dataset(
            ds, model=V5, backend="api", api_key="jina_test", base_url=srv.base_url, id_column="doc_id",
            batch_size=8, max_concurrency=1, rows_per_batch=16,
        )  # fmt: skip
        with pytest.raises(EmbedRowsError) as info:
            out.materialize()
        requests = [r for r in srv.requests if r.path == "/v1/embeddings"]
    err = info.value
    assert len(requests) == 2  # one batch of 16 rows, two requests of 8, no retry of the 400
    assert [r.outcome for r in requests] == ["status:400", "ok"]
    failed_texts = set(requests[0].body["input"])
    assert err.row_ids == [f"d{i}" for i, t in enumerate(texts) if t in failed_texts]
    assert len(err.row_ids) == 8 and err.batch_rows == 16 and err.cause_type == "PartialBatchError"
