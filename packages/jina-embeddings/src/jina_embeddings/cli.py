"""``jina-embeddings`` command line: list models, embed texts, rerank documents.

Examples::

    jina-embeddings models
    jina-embeddings embed --model ./my-model --role query "what is a vector?"
    echo -e "doc one\\ndoc two" | jina-embeddings embed --backend api --dimensions 256 -
    jina-embeddings rerank --model jina-reranker-v3 "query" "doc a" "doc b"

Output is JSON (one object per line for ``embed``), so it pipes into ``jq``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ._embedder import DEFAULT_MODEL, Embedder
from ._models import list_models
from ._quantize import PRECISIONS
from ._reranker import DEFAULT_RERANKER, Reranker
from .errors import JinaError

__all__ = ["main"]


def _texts(items: Sequence[str]) -> list[str]:
    """Arguments, or one text per line from stdin when the only argument is ``-``."""
    if list(items) == ["-"]:
        return [line.rstrip("\n") for line in sys.stdin if line.strip()]
    return list(items)


def _common(parser: argparse.ArgumentParser, default_model: str) -> None:
    parser.add_argument("--model", default=default_model)
    parser.add_argument("--backend", choices=["local", "api", "openai", "fake"])
    parser.add_argument("--base-url")
    parser.add_argument("--device")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jina-embeddings", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="list the model registry")
    embed = sub.add_parser("embed", help="embed texts (arguments, or '-' for stdin lines)")
    _common(embed, DEFAULT_MODEL)
    embed.add_argument("--task")
    embed.add_argument("--role", default="document", choices=["query", "document"])
    embed.add_argument("--dimensions", type=int)
    embed.add_argument("--precision", default="float32", choices=PRECISIONS)
    embed.add_argument("texts", nargs="+")
    rerank = sub.add_parser("rerank", help="rerank documents for a query")
    _common(rerank, DEFAULT_RERANKER)
    rerank.add_argument("--top-n", type=int)
    rerank.add_argument("query")
    rerank.add_argument("documents", nargs="+")
    return parser


def _remote_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"backend": args.backend}
    if args.base_url:
        kwargs["base_url"] = args.base_url
    if args.device:
        kwargs["device"] = args.device
    return kwargs


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "models":
            for spec in list_models():
                dims = ",".join(map(str, spec.matryoshka_dims or ())) or "-"
                print(
                    f"{spec.name:45s} {spec.kind:11s} dim={spec.native_dim or '-':<5} "
                    f"tasks={','.join(spec.tasks) or '-'} matryoshka={dims} license={spec.license}"
                )
        elif args.command == "embed":
            with Embedder(
                args.model,
                task=args.task,
                dimensions=args.dimensions,
                precision=args.precision,
                **_remote_kwargs(args),
            ) as emb:
                res = emb.embed(_texts(args.texts), role=args.role)
            for i, vector in enumerate(res.to_list()):
                print(json.dumps({"index": i, "embedding": vector}))
            print(
                json.dumps({"model": res.model, "usage": vars(res.usage), "truncated": res.truncated}),
                file=sys.stderr,
            )
        else:
            with Reranker(args.model, top_n=args.top_n, **_remote_kwargs(args)) as rr:
                res = rr.rerank(args.query, _texts(args.documents))
            for r in res:
                print(
                    json.dumps(
                        {"index": r.index, "relevance_score": r.relevance_score, "document": r.document}
                    )
                )
    except JinaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
