"""The core's public surface is pinned, and adapters import nothing else from it."""

from __future__ import annotations

import ast
from pathlib import Path

import jina_embeddings
import jina_embeddings.integration

ROOT = Path(__file__).resolve().parents[2]
ADAPTER_SOURCES = [
    ROOT / "packages" / name / "src"
    for name in ("langchain-jina-embeddings", "llama-index-jina-embeddings", "jina-embeddings-haystack")
]
ALLOWED = {"jina_embeddings", "jina_embeddings.integration"}

CORE_ALL = {
    "DEFAULT_BATCH_SIZES",
    "DEFAULT_MODEL",
    "DEFAULT_RERANKER",
    "MODELS",
    "PRECISIONS",
    "TOKEN_VECTORS_KEY",
    "MultiVectorEmbedder",
    "MultiVectorEmbeddings",
    "decode_token_vectors",
    "encode_token_vectors",
    "maxsim",
    "maxsim_scores",
    "APIConnectionError",
    "APIError",
    "APIKey",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EmbedOptions",
    "Embedder",
    "Embeddings",
    "Image",
    "InsufficientBalanceError",
    "InternalServerError",
    "InvalidInputError",
    "JinaError",
    "LocalOptions",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ModelSpec",
    "NotFoundError",
    "PartialBatchError",
    "PermissionDeniedError",
    "RateLimitError",
    "RemoteBackendWarning",
    "RemoteOptions",
    "RequestTooLargeError",
    "RerankOptions",
    "RerankResult",
    "Reranker",
    "Reranking",
    "Role",
    "Task",
    "TaskAliasWarning",
    "TaskBinding",
    "TruncationWarning",
    "UnprocessableEntityError",
    "UnregisteredModelWarning",
    "Usage",
    "__version__",
    "get_spec",
    "list_models",
    "resolve",
}
INTEGRATION_ALL = {
    "API_KEY_ENV_VARS",
    "BACKENDS",
    "APIKey",
    "BackendRow",
    "KeyRef",
    "Kind",
    "OptionSpec",
    "adapter_options",
    "backend_row",
    "check_query",
    "check_text",
    "check_texts",
    "default_batch_sizes",
    "document_vectors_from",
    "group_chunks",
    "held_key",
    "learned_ranges",
    "option_specs",
    "pydantic_fields",
    "resolve_api_key",
}


def test_core_all_is_pinned() -> None:
    assert set(jina_embeddings.__all__) == CORE_ALL
    assert all(hasattr(jina_embeddings, name) for name in CORE_ALL)


def test_integration_all_is_pinned() -> None:
    assert set(jina_embeddings.integration.__all__) == INTEGRATION_ALL
    assert all(hasattr(jina_embeddings.integration, name) for name in INTEGRATION_ALL)


def core_imports(path: Path) -> list[tuple[str, int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [
            (str(path.relative_to(ROOT)), node.lineno, n)
            for n in names
            if n.split(".")[0] == "jina_embeddings"
        ]
    return found


def test_adapters_import_only_the_public_surface() -> None:
    imports = [
        imp for src in ADAPTER_SOURCES for path in sorted(src.rglob("*.py")) for imp in core_imports(path)
    ]
    assert len(imports) >= 10  # the walk found the adapters' imports: the check itself works
    offending = [imp for imp in imports if imp[2] not in ALLOWED]
    assert offending == [], offending


def test_the_check_catches_a_private_import(tmp_path: Path) -> None:
    bad = ROOT / "packages" / "_probe.py"
    try:
        bad.write_text("from jina_embeddings._options import EmbedOptions\nimport jina_embeddings._http\n")
        assert [imp[2] for imp in core_imports(bad)] == ["jina_embeddings._options", "jina_embeddings._http"]
    finally:
        bad.unlink()
