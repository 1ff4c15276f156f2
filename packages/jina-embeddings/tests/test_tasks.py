"""The role/task table of DESIGN.md, row by row, for every (model, task, role) in the registry."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jina_embeddings import InvalidInputError, Role, get_spec, list_models, resolve
from jina_embeddings._tasks import CODE_PREFIXES, V3_INSTRUCTIONS

Q, D = "query", "document"
V3Q = "Represent the query for retrieving evidence documents: "
V3P = "Represent the document for retrieval: "

# (task, role) -> (adapter, prompt, api_task) per family, written out by hand from the design table.
V5 = {
    ("retrieval", Q): ("retrieval", "Query: ", "retrieval.query"),
    ("retrieval", D): ("retrieval", "Document: ", "retrieval.passage"),
    ("text-matching", Q): ("text-matching", "Document: ", "text-matching"),
    ("text-matching", D): ("text-matching", "Document: ", "text-matching"),
    ("clustering", Q): ("clustering", "Document: ", "clustering"),
    ("clustering", D): ("clustering", "Document: ", "clustering"),
    ("classification", Q): ("classification", "Document: ", "classification"),
    ("classification", D): ("classification", "Document: ", "classification"),
}
V3 = {
    ("retrieval", Q): ("retrieval.query", V3Q, "retrieval.query"),
    ("retrieval", D): ("retrieval.passage", V3P, "retrieval.passage"),
    ("text-matching", Q): ("text-matching", "", "text-matching"),
    ("text-matching", D): ("text-matching", "", "text-matching"),
    ("clustering", Q): ("separation", "", "separation"),
    ("clustering", D): ("separation", "", "separation"),
    ("classification", Q): ("classification", "", "classification"),
    ("classification", D): ("classification", "", "classification"),
}
V4 = {
    ("retrieval", Q): ("retrieval", "Query: ", "retrieval.query"),
    ("retrieval", D): ("retrieval", "Passage: ", "retrieval.passage"),
    ("text-matching", Q): ("text-matching", "Query: ", "text-matching"),
    ("text-matching", D): ("text-matching", "Query: ", "text-matching"),
    ("code", Q): ("code", "Query: ", "code.query"),
    ("code", D): ("code", "Passage: ", "code.passage"),
}
CODE = {
    (t, r): (None, CODE_PREFIXES[t][Role(r)], f"{t}.{'query' if r == Q else 'passage'}")
    for t in CODE_PREFIXES
    for r in (Q, D)
}
CLIP = {("retrieval", Q): (None, V3Q, "retrieval.query"), ("retrieval", D): (None, "", None)}
COLBERT = {("retrieval", Q): (None, "", None), ("retrieval", D): (None, "", None)}
TABLES = {"v5": V5, "v3": V3, "v4": V4, "code": CODE, "clip": CLIP, "colbert": COLBERT}


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for spec in list_models():
        if spec.family in TABLES:
            rows += [(spec.name, task, role) for task in spec.tasks for role in (Q, D)]
    return rows


@pytest.mark.parametrize(("model", "task", "role"), _rows())
def test_every_model_task_role(model: str, task: str, role: str) -> None:
    spec = get_spec(model)
    adapter, prompt, api_task = TABLES[spec.family][(task, role)]
    if spec.adapter_layout == "merged":
        adapter = None  # merged per-task repos have the adapter baked in
    b = resolve(spec, task, role)
    assert (b.task, b.role.value) == (task, role)
    assert (b.adapter, b.prompt, b.api_task) == (adapter, prompt, api_task)
    if spec.family == "colbert":
        assert b.api_input_type == role


def test_table_covers_every_family_task() -> None:
    rows = _rows()
    assert len(rows) == sum(2 * len(s.tasks) for s in list_models() if s.family in TABLES)
    # v5 small+nano 16, their 8 merged repos 16, v3 8, v4 6, two code models 20, clip 2, colbert 2
    assert len(rows) == 70


@pytest.mark.parametrize("model", [s.name for s in list_models() if s.family == "v2"])
def test_v2_models_have_no_task(model: str) -> None:
    b = resolve(get_spec(model), None, "query")
    assert (b.task, b.adapter, b.prompt, b.api_task) == (None, None, "", None)
    with pytest.raises(InvalidInputError, match="has no tasks"):
        resolve(get_spec(model), "retrieval", "query")


def test_default_task_is_retrieval_for_v5() -> None:
    assert resolve(get_spec("jina-embeddings-v5-text-nano"), None, D).api_task == "retrieval.passage"


def test_code_default_task() -> None:
    assert resolve(get_spec("jina-code-embeddings-0.5b"), None, Q).api_task == "nl2code.query"


@pytest.mark.parametrize(
    ("model", "task", "hint"),
    [
        ("jina-embeddings-v4", "clustering", "retrieval, text-matching, code"),
        ("jina-embeddings-v5-text-small-retrieval", "text-matching", "Valid tasks: retrieval"),
        ("jina-code-embeddings-1.5b", "retrieval", "nl2code, qa, code2code, code2nl, code2completion"),
    ],
)
def test_unknown_task_names_valid_ones(model: str, task: str, hint: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        resolve(get_spec(model), task, Q)
    assert hint in str(info.value) and info.value.field == "task"


def test_task_spelling_is_forgiving_but_role_is_strict() -> None:
    spec = get_spec("jina-embeddings-v5-text-small")
    assert resolve(spec, "Text_Matching", "passage").adapter == "text-matching"
    with pytest.raises(InvalidInputError, match="Unknown role"):
        resolve(spec, "retrieval", "answer")


def test_rerankers_have_no_binding() -> None:
    with pytest.raises(InvalidInputError, match="not an embedding model"):
        resolve(get_spec("jina-reranker-v3"), None, Q)


def test_v3_instructions_cover_every_adapter() -> None:
    assert set(V3_INSTRUCTIONS) == {a for a, _, _ in V3.values()}


@pytest.mark.parametrize(
    ("model", "alias", "task", "side"),
    [
        ("jina-embeddings-v5-text-small", "retrieval.query", "retrieval", "query"),
        ("jina-embeddings-v3", "retrieval.passage", "retrieval", "document"),
        ("jina-embeddings-v4", "code.query", "code", "query"),
        ("jina-embeddings-v3", "separation", "clustering", None),
    ],
)
def test_api_task_strings_are_aliases_with_a_warning(
    model: str, alias: str, task: str, side: str | None
) -> None:
    from jina_embeddings import Embedder, TaskAliasWarning

    with pytest.warns(TaskAliasWarning, match=f"using task='{task}'"):
        emb = Embedder(model, backend="fake", task=alias)
    assert emb.task == task
    expected = Embedder(model, backend="fake", task=task)
    for role in ("query", "document"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = emb.embed(["a text"], role=role)
        np.testing.assert_array_equal(got.vectors, expected.embed(["a text"], role=role).vectors)
        contradicts = side is not None and role != side
        assert [w.category for w in caught] == ([TaskAliasWarning] if contradicts else []), role
