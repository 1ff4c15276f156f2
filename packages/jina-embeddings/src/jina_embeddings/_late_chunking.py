"""Late chunking: chunk vectors that carry the document around them.

A chunk such as "It was founded in 1998." loses what "it" is once embedded on its own. Late
chunking runs the model once over the whole document (its chunks joined by a single space,
after the task's prompt) and mean-pools each chunk's own token span, so every chunk vector
is computed with the document as context. It needs document boundaries, so it is a
document-level call:

* :meth:`LateChunkingMixin.embed_chunks` -- the chunks of ONE document, in order;
* :meth:`LateChunkingMixin.embed_chunked` -- a list of such documents, one
  :class:`~jina_embeddings.Embeddings` per document.

A flat ``embed_documents(texts)`` with ``late_chunking=True`` is refused: a list of texts has
no document boundaries, and fusing whatever shares a batch (what the per-request API flag
did) mixes unrelated documents silently. Queries are embedded whole (a query is its own
one-chunk document).

Where it runs is a capability, not a family check: the backend table's ``late_chunking``
capability (``local``, ``api``, ``fake``), and the model: locally a mean-pooled model (v3,
v2, v4 text, MiniLM-like sentence-transformers folders; pooling read from the spec),
remotely a model the API accepts ``late_chunking`` for (v3, v4). Span means are outside the
training of last-token (v5, code models) and CLS models, so those are refused unless
``force_late_chunking=True``.

Example::

    from jina_embeddings import Embedder

    emb = Embedder("jina-embeddings-v3", task="retrieval")
    one = emb.embed_chunks(["Berlin is the capital of Germany.", "It has 3.8 million people."])
    many = emb.embed_chunked([["First doc.", "Its second chunk."], ["Another document."]])
    one.vectors.shape, len(many)                    # (2, 1024), 2

This module holds the frontend half (validation, capability, grouping for adapters, the
split of one result into documents); the backends hold the passes: local
(:mod:`._backends.late_chunking_local`) and remote (:mod:`._backends.late_chunking_remote`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._tasks import Role
from ._validation import check_text
from .errors import InvalidInputError

if TYPE_CHECKING:
    from ._backends.base import EmbedRequest
    from ._backends.table import BackendRow
    from ._models import ModelSpec
    from ._results import Embeddings

__all__ = [
    "LateChunkingMixin",
    "check_documents",
    "flat_late_chunking_error",
    "group_chunks",
    "late_chunking_problem",
    "scatter",
]

#: Pooling modes whose chunk spans can be mean-pooled faithfully (the model was trained so).
MEAN_POOLINGS = frozenset({"mean"})


def late_chunking_problem(spec: ModelSpec, row: BackendRow, *, force: bool = False) -> str | None:
    """Why ``spec`` on ``row`` cannot late-chunk, or ``None`` if it can.

    >>> from jina_embeddings._models import get_spec
    >>> from jina_embeddings._backends.table import backend_row
    >>> late_chunking_problem(get_spec("jina-embeddings-v3"), backend_row("api")) is None
    True
    >>> "last-token" in late_chunking_problem(get_spec("jina-embeddings-v5-text-small"), backend_row("local"))
    True
    """
    if "late_chunking" not in row.capabilities:
        return f"backend {row.name!r} has no late chunking (it runs on backend='local' and 'api')."
    if "text" not in spec.modalities:
        return f"model {spec.name!r} embeds no text."
    if row.options == "remote":
        if not spec.late_chunking:
            return (
                f"the Jina API late-chunks jina-embeddings-v3 and v4 only, not {spec.name!r}; "
                "run it locally with a mean-pooled model instead."
            )
        return None
    if row.options == "local" and spec.pooling not in MEAN_POOLINGS and not force:
        return (
            f"{spec.name!r} pools by {spec.pooling!r}, not by mean: span means are outside its "
            "training, so the chunk vectors would not be what it learned to produce. Use a "
            "mean-pooled model (jina-embeddings-v3, v2, v4, MiniLM-like models), or pass "
            "force_late_chunking=True to try it anyway (experimental)."
        )
    return None


def flat_late_chunking_error() -> InvalidInputError:
    """The error for ``embed_documents(texts)`` under ``late_chunking=True``."""
    return InvalidInputError(
        "late_chunking=True needs document boundaries, which a flat list of texts does not have "
        "(fusing texts that happen to share a batch would mix documents). Pass the chunks of "
        "each document to embed_chunks(chunks) / embed_chunked([chunks, ...]) (or their async "
        "twins), or build the Embedder without late_chunking.",
        field="late_chunking",
    )


def check_documents(documents: object) -> tuple[list[str], tuple[int, ...]]:
    """Validate a list of documents (each a non-empty list of text chunks, in order).

    Returns the chunks of all documents flattened, and the number of chunks per document.

    Raises:
        InvalidInputError: ``documents`` or a document is not a list (a bare string is refused),
            a document has no chunks, or a chunk is not a non-blank string (an image, say);
            ``index`` is the document's position, the message names the chunk.
    """
    if isinstance(documents, str | bytes) or not isinstance(documents, Sequence):
        raise InvalidInputError(
            "embed_chunked expects a list of documents, each a list of text chunks "
            f"(got {type(documents).__name__}); for one document use embed_chunks(chunks).",
            field="documents",
        )
    flat: list[str] = []
    counts: list[int] = []
    for d, chunks in enumerate(documents):
        where = f"document {d}" if len(documents) > 1 else "the document"
        if isinstance(chunks, str | bytes) or not isinstance(chunks, Sequence):
            raise InvalidInputError(
                f"{where} must be a list of text chunks, got {type(chunks).__name__}.",
                index=d,
                field="chunks",
            )
        if not chunks:
            raise InvalidInputError(
                f"{where} has no chunks; late chunking needs at least one.", index=d, field="chunks"
            )
        for c, chunk in enumerate(chunks):
            if not isinstance(chunk, str):
                raise InvalidInputError(
                    f"chunk {c} of {where} is {type(chunk).__name__}: late chunking embeds text "
                    "chunks only (images and other items have no token span in a text).",
                    index=d,
                    field="chunks",
                )
            try:
                check_text(chunk, what=f"chunk {c} of {where}")
            except InvalidInputError as exc:
                raise InvalidInputError(str(exc), index=d, field="chunks") from None
            flat.append(chunk)
        counts.append(len(chunks))
    return flat, tuple(counts)


def split(result: Embeddings, counts: Sequence[int]) -> list[Embeddings]:
    """One finished result over all chunks -> one result per document (same precision, width)."""
    out: list[Embeddings] = []
    start = 0
    marks = set(result.truncated_indices or ())
    for n in counts:
        stop = start + n
        mine = tuple(i - start for i in sorted(marks) if start <= i < stop)
        out.append(
            replace(
                result,
                vectors=result.vectors[start:stop],
                truncated=len(mine)
                if result.truncated_indices is not None
                else (result.truncated if len(counts) == 1 else 0),  # a server's count: per call only
                truncated_indices=mine if result.truncated_indices is not None else None,
            )
        )
        start = stop
    if len(counts) == 1:  # one document: its usage is the call's
        return out
    return [replace(r, usage=type(r.usage)()) for r in out] if out else out


class LateChunkingMixin:
    """``embed_chunks`` / ``embed_chunked`` and their async twins, for :class:`~jina_embeddings.Embedder`.

    Uses the Embedder's own request building and post-processing (cut, renormalize,
    quantize), so chunk vectors come out exactly like ``embed`` results.
    """

    # provided by Embedder / Frontend
    spec: Any
    _row: Any
    _backend: Any
    local_options: Any
    _request: Any
    _finish: Any
    _finishing_partial: Any
    _empty: Any

    def embed_chunks(self, chunks: Sequence[str]) -> Embeddings:
        """Late-chunk ONE document: its chunks, in order, embedded with the whole document as context.

        Returns one row per chunk (document role, the Embedder's dimensions and precision).

        Example::

            res = emb.embed_chunks(["Acme was founded in 1998.", "It makes anvils."])
            res.vectors.shape        # (2, emb.dimensions)

        Raises:
            InvalidInputError: no chunks, a blank or non-text chunk, or a model/backend without
                late chunking (see :func:`late_chunking_problem`); before any model call.
        """
        return self.embed_chunked([chunks])[0]

    def embed_chunked(self, documents: Sequence[Sequence[str]]) -> list[Embeddings]:
        """Late-chunk several documents; one :class:`~jina_embeddings.Embeddings` per document.

        No forward pass or request ever mixes two documents. Locally, a document longer than
        the model's context is encoded in overlapping windows (``late_chunking_overlap``);
        remotely, it is split into consecutive requests of whole chunks within the API's
        limit, and context stops at those boundaries. With several documents, each result's
        ``usage`` is unknown (``Usage()``); :meth:`embed_chunk_groups` gives the call's total.
        """
        request, counts = self._chunked_request(documents)
        return split(self._late(request), counts) if counts else []

    async def aembed_chunks(self, chunks: Sequence[str]) -> Embeddings:
        """Async :meth:`embed_chunks`."""
        return (await self.aembed_chunked([chunks]))[0]

    async def aembed_chunked(self, documents: Sequence[Sequence[str]]) -> list[Embeddings]:
        """Async :meth:`embed_chunked`: async HTTP remotely, a worker thread locally."""
        request, counts = self._chunked_request(documents)
        return split(await self._alate(request), counts) if counts else []

    def embed_chunk_groups(self, texts: Sequence[str], groups: Sequence[Sequence[int]]) -> Embeddings:
        """Late-chunk ``texts`` whose documents are given as ``groups`` of indices (each group one
        document, its indices in reading order); the result has one row per text, in INPUT order.

        This is what the framework adapters call after :func:`group_chunks` (documents split by a
        framework splitter arrive interleaved, or in any order). Every index must appear in
        exactly one group.

        Example::

            texts = ["It makes anvils.", "Acme was founded in 1998.", "Unrelated note."]
            res = emb.embed_chunk_groups(texts, [[1, 0], [2]])   # rows follow texts
        """
        documents, order = _documents_of(texts, groups)
        request, counts = self._chunked_request(documents)
        if not counts:
            return self._empty(request)
        return _in_input_order(self._late(request), order)

    async def aembed_chunk_groups(self, texts: Sequence[str], groups: Sequence[Sequence[int]]) -> Embeddings:
        """Async :meth:`embed_chunk_groups`."""
        documents, order = _documents_of(texts, groups)
        request, counts = self._chunked_request(documents)
        if not counts:
            return self._empty(request)
        return _in_input_order(await self._alate(request), order)

    def _late(self, request: EmbedRequest) -> Embeddings:
        with self._finishing_partial(request):
            return self._finish(request, self._backend.embed(request))

    async def _alate(self, request: EmbedRequest) -> Embeddings:
        with self._finishing_partial(request):
            return self._finish(request, await self._backend.aembed(request))

    def _chunked_request(self, documents: Sequence[Sequence[str]]) -> tuple[EmbedRequest, tuple[int, ...]]:
        flat, counts = check_documents(documents)
        force = bool(getattr(self.local_options, "force_late_chunking", False))
        problem = late_chunking_problem(self.spec, self._row, force=force)
        if problem is not None:
            raise InvalidInputError(f"Late chunking is not available: {problem}", field="late_chunking")
        request = self._request(flat, Role.DOCUMENT, chunk_counts=counts)
        return request, counts


def _documents_of(texts: Sequence[str], groups: Sequence[Sequence[int]]) -> tuple[list[list[str]], list[int]]:
    """The documents (lists of texts) that ``groups`` name, and the input index of each row."""
    if isinstance(texts, str | bytes) or not isinstance(texts, Sequence):
        raise InvalidInputError("texts must be a list of strings.", field="texts")
    order = [i for g in groups for i in g]
    if sorted(order) != list(range(len(texts))):
        raise InvalidInputError(
            f"groups must name every one of the {len(texts)} texts exactly once.", field="groups"
        )
    return [[texts[i] for i in g] for g in groups], order


def _in_input_order(result: Embeddings, order: Sequence[int]) -> Embeddings:
    """Rows in group order -> rows in input order (``order[k]`` is row k's input index)."""
    inverse = [0] * len(order)
    for row, i in enumerate(order):
        inverse[i] = row
    marks = (
        None
        if result.truncated_indices is None
        else tuple(sorted(order[k] for k in result.truncated_indices))
    )
    return replace(result, vectors=result.vectors[inverse], truncated_indices=marks)


def group_chunks(keys: Sequence[Hashable | None], positions: Sequence[Any]) -> list[list[int]]:
    """Group items into documents for late chunking: same ``key`` -> one document, in ``positions`` order.

    An item whose key is ``None`` is its own document. Groups come in order of their first
    item; within a group, items are sorted by position (``None`` positions keep input order,
    after the positioned ones). Framework adapters use it with their source-document fields
    (Haystack ``source_id`` / ``split_id``, LlamaIndex ``ref_doc_id`` / ``start_char_idx``,
    LangChain ``source`` / ``start_index``).

    >>> group_chunks(["a", None, "a", "b"], [5, 0, 1, None])
    [[2, 0], [1], [3]]
    """
    if len(keys) != len(positions):
        raise ValueError("keys and positions must have the same length")
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(("own", i) if key is None else ("key", key), []).append(i)

    def order(i: int) -> tuple[int, Any, int]:
        p = positions[i]
        return (1, 0, i) if p is None else (0, p, i)

    return [sorted(members, key=order) for members in groups.values()]


def scatter(groups: Sequence[Sequence[int]], results: Sequence[Any], total: int) -> list[Any]:
    """Per-group rows back to input order: ``out[groups[g][k]] = results[g][k]``."""
    out: list[Any] = [None] * total
    for members, rows in zip(groups, results, strict=True):
        for i, row in zip(members, rows, strict=True):
            out[i] = row
    return out
