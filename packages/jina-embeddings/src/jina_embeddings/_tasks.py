"""Roles and tasks: the one place that turns (model, task, role) into what a backend needs.

Frameworks speak of roles (a query, a document); Jina models speak of tasks (LoRA adapters,
instructions, API task strings). The caller picks a task once; :func:`resolve` gives, for
each role, a :class:`TaskBinding` with:

* ``adapter``  the LoRA adapter (v5 ``peft``) or the model's own ``task=`` value (v3, v4,
  and v5 loaded through its remote code),
* ``prompt``   the text the local model (and an OpenAI-compatible server) must see first,
* ``api_task`` the Jina API ``task`` field (``None``: send none),
* ``api_input_type`` the Jina API ``input_type`` field (colbert only).

Example::

    >>> from jina_embeddings._models import get_spec
    >>> b = resolve(get_spec("jina-embeddings-v5-text-small"), "retrieval", "query")
    >>> (b.adapter, b.prompt, b.api_task)
    ('retrieval', 'Query: ', 'retrieval.query')
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from ._models import ModelSpec
from .errors import InvalidInputError

__all__ = [
    "CODE_PREFIXES",
    "V3_INSTRUCTIONS",
    "Role",
    "Task",
    "TaskAliasWarning",
    "TaskBinding",
    "api_task_alias",
    "check_task",
    "from_api_task",
    "resolve",
]


class Task(str, Enum):
    """Task names accepted by ``task=`` (plain strings work too)."""

    RETRIEVAL = "retrieval"
    TEXT_MATCHING = "text-matching"
    CLUSTERING = "clustering"
    CLASSIFICATION = "classification"
    CODE = "code"  # jina-embeddings-v4 only
    NL2CODE = "nl2code"
    QA = "qa"
    CODE2CODE = "code2code"
    CODE2NL = "code2nl"
    CODE2COMPLETION = "code2completion"


class Role(str, Enum):
    """Which side of the search a text is on."""

    QUERY = "query"
    DOCUMENT = "document"


@dataclass(frozen=True)
class TaskBinding:
    """What a backend needs for one (task, role); see the module docstring."""

    task: str | None
    role: Role
    adapter: str | None
    prompt: str
    api_task: str | None
    api_input_type: str | None = None


V3_INSTRUCTIONS = {
    "retrieval.query": "Represent the query for retrieving evidence documents: ",
    "retrieval.passage": "Represent the document for retrieval: ",
    "text-matching": "",
    "separation": "",
    "classification": "",
}

# jina-code-embeddings paper (arXiv 2508.21290), Table 1.
CODE_PREFIXES: dict[str, dict[Role, str]] = {
    "nl2code": {
        Role.QUERY: "Find the most relevant code snippet given the following query:\n",
        Role.DOCUMENT: "Candidate code snippet:\n",
    },
    "qa": {
        Role.QUERY: "Find the most relevant answer given the following question:\n",
        Role.DOCUMENT: "Candidate answer:\n",
    },
    "code2code": {
        Role.QUERY: "Find an equivalent code snippet given the following code snippet:\n",
        Role.DOCUMENT: "Candidate code snippet:\n",
    },
    "code2nl": {
        Role.QUERY: "Find the most relevant comment given the following code snippet:\n",
        Role.DOCUMENT: "Candidate comment:\n",
    },
    "code2completion": {
        Role.QUERY: "Find the most relevant completion given the following start of code snippet:\n",
        Role.DOCUMENT: "Candidate completion:\n",
    },
}

_ROLE_ALIASES = {
    "query": Role.QUERY,
    "document": Role.DOCUMENT,
    "passage": Role.DOCUMENT,
    "text": Role.DOCUMENT,
    "search_query": Role.QUERY,
    "search_document": Role.DOCUMENT,
}


def _role(role: Role | str) -> Role:
    if isinstance(role, Role):
        return role
    found = _ROLE_ALIASES.get(str(role).lower()) if isinstance(role, str) else None
    if found is None:
        raise InvalidInputError(f"Unknown role {role!r}: use 'query' or 'document'.", field="role")
    return found


_SIDES = {"query": Role.QUERY, "passage": Role.DOCUMENT, "document": Role.DOCUMENT}


class TaskAliasWarning(UserWarning):
    """An API task string (``retrieval.passage``) was passed where a task (``retrieval``) belongs."""


def _normal(task: Task | str) -> str:
    name = task.value if isinstance(task, Task) else task
    if not isinstance(name, str):
        raise InvalidInputError(f"task must be a string, got {type(task).__name__}.", field="task")
    return name.strip().lower().replace("_", "-")


def api_task_alias(spec: ModelSpec, task: Task | str | None) -> tuple[str, Role | None] | None:
    """``(task, side)`` when ``task`` is one of the API's task strings for a task ``spec`` has.

    What the old jina-haystack and LlamaIndex docs told users to pass: ``retrieval.passage`` /
    ``retrieval.query`` (v4 also ``code.*``) and v3's ``separation``. ``side`` is the role the
    string names (``None`` where it names none).

    >>> from jina_embeddings._models import get_spec
    >>> api_task_alias(get_spec("jina-embeddings-v3"), "retrieval.passage")
    ('retrieval', <Role.DOCUMENT: 'document'>)
    """
    if task is None:
        return None
    name = _normal(task)
    base, _, side = name.partition(".")
    if side in _SIDES and base in spec.tasks:
        return base, _SIDES[side]
    if name == "separation" and "clustering" in spec.tasks:
        return "clustering", None
    return None


def check_task(spec: ModelSpec, task: Task | str | None) -> str | None:
    """Validate ``task`` for ``spec``; ``None`` picks the model's default task.

    An API task string (``retrieval.passage``, ``separation``) is accepted as the task it belongs
    to, with a :class:`TaskAliasWarning`: each call's role picks the side.

    Raises:
        InvalidInputError: the model lacks the task (the message names the valid ones).
    """
    if task is None:
        return spec.default_task
    if spec.family == "passthrough":  # a model newer than the registry: the API's own strings
        return (task.value if isinstance(task, Task) else str(task)).strip()
    name = _normal(task)
    if name in spec.tasks:
        return name
    alias = api_task_alias(spec, name)
    if alias is not None:
        warnings.warn(
            f"task={name!r} is the Jina API's string, not a task: using task={alias[0]!r}. Each call's "
            "role (query or document) picks the side for you; pass task="
            f"{alias[0]!r} to silence this.",
            TaskAliasWarning,
            stacklevel=4,
        )
        return alias[0]
    if not spec.tasks:
        raise InvalidInputError(
            f"Model {spec.name!r} has no tasks (no adapters or task prompts); omit task= or pass task=None.",
            field="task",
        )
    raise InvalidInputError(
        f"Model {spec.name!r} has no task {task!r}. Valid tasks: {', '.join(spec.tasks)}.", field="task"
    )


def _v5(spec: ModelSpec, task: str | None, role: Role) -> TaskBinding:
    query_side = task == "retrieval" and role is Role.QUERY
    prompt = spec.prompts.get("query" if query_side else "document", "")
    api = ("retrieval.query" if query_side else "retrieval.passage") if task == "retrieval" else task
    adapter = None if spec.adapter_layout == "merged" else task
    return TaskBinding(task, role, adapter, prompt, api)


def _v3(spec: ModelSpec, task: str | None, role: Role) -> TaskBinding:
    api = {
        "retrieval": "retrieval.query" if role is Role.QUERY else "retrieval.passage",
        "clustering": "separation",
    }.get(task or "", task)
    return TaskBinding(task, role, api, V3_INSTRUCTIONS.get(api or "", ""), api)


def _v4(spec: ModelSpec, task: str | None, role: Role) -> TaskBinding:
    if task == "text-matching":
        return TaskBinding(task, role, task, "Query: ", task)
    side = "query" if role is Role.QUERY else "passage"
    return TaskBinding(task, role, task, "Query: " if side == "query" else "Passage: ", f"{task}.{side}")


def _code(spec: ModelSpec, task: str | None, role: Role) -> TaskBinding:
    side = "query" if role is Role.QUERY else "passage"
    return TaskBinding(task, role, None, CODE_PREFIXES[task or "nl2code"][role], f"{task}.{side}")


def _clip(spec: ModelSpec, task: str | None, role: Role) -> TaskBinding:
    if role is Role.QUERY:
        query = "retrieval.query"
        return TaskBinding(task, role, None, V3_INSTRUCTIONS[query], query)
    return TaskBinding(task, role, None, "", None)


def _colbert(spec: ModelSpec, task: str | None, role: Role) -> TaskBinding:
    return TaskBinding(task, role, None, "", None, api_input_type=role.value)


def _plain(spec: ModelSpec, task: str | None, role: Role) -> TaskBinding:
    return TaskBinding(None, role, None, spec.prompts.get(role.value, ""), None)


def _passthrough(spec: ModelSpec, task: str | None, role: Role) -> TaskBinding:
    return TaskBinding(task, role, None, "", task)


_RULES: dict[str, Callable[[ModelSpec, str | None, Role], TaskBinding]] = {
    "v5": _v5,
    "v3": _v3,
    "v4": _v4,
    "code": _code,
    "clip": _clip,
    "colbert": _colbert,
    "v2": _plain,
    "generic": _plain,
    "passthrough": _passthrough,
}


def resolve(spec: ModelSpec, task: Task | str | None, role: Role | str) -> TaskBinding:
    """Map (model, task, role) to the adapter, prompt and API task a backend needs.

    Raises:
        InvalidInputError: unknown role, a task the model lacks, or a reranker model.
    """
    rule = _RULES.get(spec.family)
    if rule is None:
        raise InvalidInputError(
            f"Model {spec.name!r} is a {spec.kind}, not an embedding model.", field="model"
        )
    return rule(spec, check_task(spec, task), _role(role))


def from_api_task(spec: ModelSpec, api_task: str | None) -> tuple[str | None, Role]:
    """The reverse of :func:`resolve`: the (task, role) whose binding sends ``api_task``.

    What a server that speaks the Jina API (``jina-embeddings serve``) needs to turn a
    request's ``task`` back into the adapter and prompt. ``None`` (no ``task`` field) is the
    model's default task, document side. Where two roles share one API task (v5
    ``text-matching``: same adapter, same prompt), the document side is returned.

    >>> from jina_embeddings._models import get_spec
    >>> from_api_task(get_spec("jina-embeddings-v5-text-small"), "retrieval.query")
    ('retrieval', <Role.QUERY: 'query'>)

    Raises:
        InvalidInputError: the model has no task that sends ``api_task`` (the message lists
            the ones it has).
    """
    if api_task is None:
        return spec.default_task, Role.DOCUMENT
    known: list[str] = []
    for task in spec.tasks or (None,):
        for role in (Role.DOCUMENT, Role.QUERY):
            sent = resolve(spec, task, role).api_task
            if sent == api_task:
                return task, role
            if sent is not None and sent not in known:
                known.append(sent)
    valid = f"valid tasks: {', '.join(known)}" if known else "it takes no task field"
    raise InvalidInputError(f"Model {spec.name!r} has no task {api_task!r}; {valid}.", field="task")
