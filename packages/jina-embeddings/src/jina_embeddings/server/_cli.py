"""The ``serve`` and ``check-server`` subcommands (hooked into :mod:`jina_embeddings.cli`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._config import API_KEYS_ENV

__all__ = ["add_parsers", "run"]

COMMANDS = ("serve", "check-server")


def add_parsers(sub: Any) -> None:
    """Add ``serve`` and ``check-server`` to the CLI's subparsers."""
    d = "(default: %(default)s)"
    serve = sub.add_parser(
        "serve",
        help="serve one model with all its tasks (Jina and OpenAI /v1/embeddings, /v1/rerank)",
        description=(
            "Serve one embedding model with all its task adapters (and optionally a reranker) over "
            f"HTTP. Bearer keys come from {API_KEYS_ENV} (comma-separated; unset: no auth)."
        ),
    )
    serve.add_argument("model", help="registry name, Hugging Face repo id or folder (or a reranker)")
    serve.add_argument("--reranker", help="a reranker to serve on /v1/rerank as well")
    serve.add_argument(
        "--served-model-name", help="the name clients send as model (default: the model's name)"
    )
    serve.add_argument("--served-reranker-name", help="the same for --reranker")
    serve.add_argument("--host", default="127.0.0.1", help=f"address to listen on {d}")
    serve.add_argument("--port", type=int, default=8080, help=f"port; 0 picks a free one {d}")
    serve.add_argument("--device", help="cpu, cuda, cuda:1, mps ... (default: cuda > mps > cpu)")
    serve.add_argument(
        "--dtype", choices=["float32", "float16", "bfloat16"], help="weights dtype (default: the core's)"
    )
    serve.add_argument("--max-batch-size", type=int, default=32, help=f"texts per forward pass {d}")
    serve.add_argument(
        "--max-wait-ms",
        type=float,
        default=0.0,
        help=f"ms a forward pass that is not full waits for more requests; 0: natural batching {d}",
    )
    serve.add_argument(
        "--no-batching", action="store_true", help="one forward pass per request (no coalescing)"
    )
    serve.add_argument(
        "--max-queue", type=int, default=4096, help=f"inputs admitted at once; more get 429 {d}"
    )
    serve.add_argument("--max-inputs-per-request", type=int, default=2048, help=f"inputs per request {d}")
    serve.add_argument("--max-body-bytes", type=int, default=16 * 1024 * 1024, help=f"request body size {d}")
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--access-log", action="store_true", help="log one line per request (no headers, no keys)"
    )

    check = sub.add_parser(
        "check-server",
        help="fail if a server gives the same vector for two tasks (base-model fallback)",
        description=(
            "Embed one text under two tasks and exit 1 if the vectors are equal. protocol api: "
            "the body's task field (jina-embeddings serve); openai: the model field (vLLM "
            "multi-LoRA), or two URLs with one merged per-task model each."
        ),
    )
    check.add_argument("url", nargs="+", help="server root(s), e.g. http://127.0.0.1:8080/v1")
    check.add_argument("--protocol", choices=["api", "openai"], default="api", help=f"{d}")
    check.add_argument("--tasks", default="text-matching,clustering", help=f"two API tasks (api) {d}")
    check.add_argument("--models", help="two model names, comma-separated (openai)")
    check.add_argument("--model", help="model name sent with --protocol api")
    check.add_argument("--threshold", type=float, default=0.9999, help=f"cosine counted as equal {d}")


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``serve`` / ``check-server`` command; JinaError propagates to the CLI."""
    if args.command == "check-server":
        from .canary import CanaryError, check_server

        try:
            report = check_server(
                args.url if len(args.url) > 1 else args.url[0],
                protocol=args.protocol,
                tasks=[t.strip() for t in args.tasks.split(",")],
                models=[m.strip() for m in args.models.split(",")] if args.models else None,
                model=args.model,
                threshold=args.threshold,
            )
        except CanaryError as exc:
            print(f"check failed: {exc}", file=sys.stderr)
            return 1
        (u1, t1), (u2, t2) = report.targets
        print(f"ok: {t1!r} and {t2!r} give different vectors (cosine {report.cosine:.6f})")
        return 0
    from ._config import ServeConfig
    from ._run import serve

    config = ServeConfig(
        model=args.model,
        reranker=args.reranker,
        served_model_name=args.served_model_name,
        served_reranker_name=args.served_reranker_name,
        host=args.host,
        port=args.port,
        device=args.device,
        dtype=args.dtype,
        max_batch_size=args.max_batch_size,
        max_wait_ms=args.max_wait_ms,
        batching=not args.no_batching,
        max_queue=args.max_queue,
        max_inputs_per_request=args.max_inputs_per_request,
        max_body_bytes=args.max_body_bytes,
        log_level=args.log_level,
    )
    serve(config, access_log=args.access_log)
    return 0
