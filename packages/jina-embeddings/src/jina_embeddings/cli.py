"""``jina-embeddings`` command line: list models, embed texts, rerank documents.

Examples::

    jina-embeddings models
    jina-embeddings models --json | jq '.[] | select(.kind == "reranker") | .name'
    jina-embeddings embed --model ./my-model --role query "what is a vector?"
    printf 'doc one\\ndoc two\\n' | jina-embeddings embed --backend api --dimensions 256 -
    jina-embeddings rerank --model jina-reranker-v3 "query" "doc a" "doc b"
    jina-embeddings serve ./jina-embeddings-v5-text-small --port 8080
    jina-embeddings check-server http://127.0.0.1:8080/v1

Output is JSON (one object per line for ``embed`` and ``rerank``), so it pipes into ``jq``.
With ``-`` every stdin line is one text: line endings (``\\n``, ``\\r\\n``) are stripped and a
blank line is an error naming its line number (indices in the output are line numbers - 1).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from . import __version__
from ._backends.table import BACKENDS
from ._embedder import DEFAULT_MODEL, Embedder
from ._models import list_models
from ._quantize import PRECISIONS
from ._reranker import DEFAULT_RERANKER, Reranker
from .errors import InvalidInputError, JinaError

__all__ = ["main"]

_DOC = __doc__ or ""  # None under python -OO
_EXAMPLES = _DOC.split("Examples::", 1)[-1].split("Output is JSON", 1)[0]


def read_lines(stream: TextIO, what: str = "text") -> list[str]:
    """One ``what`` per line of ``stream``, line endings stripped; a blank line is an error.

    Raises:
        InvalidInputError: a blank (empty or whitespace-only) line, naming its 1-based number;
            ``index`` is its 0-based position, the index the output would have given it.
    """
    items: list[str] = []
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            raise InvalidInputError(
                f"line {number} of stdin is blank; every line is one {what} (remove blank lines, "
                f"or the output indices would no longer be line numbers - 1).",
                index=number - 1,
            )
        items.append(line)
    return items


def _texts(items: Sequence[str], what: str) -> list[str]:
    """Arguments, or one text per line from stdin when the only argument is ``-``."""
    if list(items) == ["-"]:
        return read_lines(sys.stdin, what)
    return list(items)


def _common(parser: argparse.ArgumentParser, default_model: str, batch_what: str) -> None:
    parser.add_argument(
        "--model",
        default=default_model,
        help=f"registry name, Hugging Face repo id or local folder (default: {default_model})",
    )
    parser.add_argument(
        "--backend",
        choices=sorted(BACKENDS),
        help="default: 'api' if --base-url or JINA_API_KEY is set, else 'local'",
    )
    parser.add_argument(
        "--base-url", help="remote server root, e.g. http://localhost:8000/v1 (default: the Jina API)"
    )
    parser.add_argument(
        "--device", help="local backend: cpu, cuda, cuda:1, mps, ... (default: cuda > mps > cpu)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help=f"{batch_what} per forward pass or per request, 1..2048 (default: the backend's, local 32)",
    )
    parser.add_argument(
        "--show-progress",
        action="store_true",
        help="show progress bars (loading, batches) on stderr (default: off)",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina-embeddings",
        description=_DOC.split("\n")[0].replace("``", ""),
        epilog="examples:" + _EXAMPLES.rstrip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="{models,embed,rerank,serve,check-server}"
    )
    models = sub.add_parser("models", help="list the model registry", description="List the model registry.")
    models.add_argument(
        "--json", action="store_true", help="print the registry as one JSON array (default: a table)"
    )
    embed = sub.add_parser(
        "embed",
        help="embed texts (arguments, or '-' for one text per stdin line)",
        description="Embed texts; prints one {index, embedding} JSON object per line, a summary on stderr.",
    )
    _common(embed, DEFAULT_MODEL, "texts")
    embed.add_argument("--task", help="retrieval, text-matching, ... (default: the model's default task)")
    embed.add_argument(
        "--role",
        default="document",
        choices=["query", "document"],
        help="which side of the task to embed for (default: document)",
    )
    embed.add_argument("--dimensions", type=int, help="Matryoshka size to cut to (default: native size)")
    embed.add_argument(
        "--precision", default="float32", choices=PRECISIONS, help="output precision (default: float32)"
    )
    embed.add_argument("texts", nargs="+", help="texts, or '-' to read one text per line from stdin")
    rerank = sub.add_parser(
        "rerank",
        help="rerank documents for a query",
        description="Rerank documents; prints one {index, relevance_score, document} JSON object per line, best first.",
    )
    _common(rerank, DEFAULT_RERANKER, "(query, document) pairs")
    rerank.add_argument("--top-n", type=int, help="keep the best N (default: all, sorted)")
    rerank.add_argument("query")
    rerank.add_argument("documents", nargs="+", help="documents, or '-' to read one per line from stdin")
    from .server import _cli as server_cli  # serve, check-server (their heavy imports are lazy)

    server_cli.add_parsers(sub)
    return parser


def _object_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"backend": args.backend}
    for name in ("base_url", "device", "batch_size"):
        if getattr(args, name) is not None:
            kwargs[name] = getattr(args, name)
    if args.show_progress:
        kwargs["show_progress"] = True
    return kwargs


def _print_models(as_json: bool) -> None:
    specs = list_models()
    if as_json:
        rows = [{k: v for k, v in dataclasses.asdict(s).items() if k != "path"} for s in specs]
        print(json.dumps(rows, indent=2, default=list))
        return
    for spec in specs:
        dims = ",".join(map(str, spec.matryoshka_dims or ())) or "-"
        print(
            f"{spec.name:45s} {spec.kind:11s} dim={spec.native_dim or '-':<5} "
            f"tasks={','.join(spec.tasks) or '-'} matryoshka={dims} license={spec.license}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        if args.command in ("serve", "check-server"):
            from .server import _cli as server_cli

            return server_cli.run(args)
        if args.command == "models":
            _print_models(args.json)
        elif args.command == "embed":
            texts = _texts(args.texts, "text")
            with Embedder(
                args.model,
                task=args.task,
                dimensions=args.dimensions,
                precision=args.precision,
                **_object_kwargs(args),
            ) as emb:
                res = emb.embed(texts, role=args.role)
            for i, vector in enumerate(res.to_list()):
                print(json.dumps({"index": i, "embedding": vector}))
            print(
                json.dumps({"model": res.model, "usage": vars(res.usage), "truncated": res.truncated}),
                file=sys.stderr,
            )
        else:
            documents = _texts(args.documents, "document")
            with Reranker(args.model, top_n=args.top_n, **_object_kwargs(args)) as rr:
                res = rr.rerank(args.query, documents)
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
