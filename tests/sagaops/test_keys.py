"""sagaops.keys builds every Redis key the engine writes, and the README lists each of them."""

import ast
from pathlib import Path

import sagaops
from sagaops import keys

ENGINE = Path(sagaops.__file__).parent
README = (ENGINE.parent / "README.md").read_text()
KEY_PREFIXES = ("saga:", "sagaops:", "lock:")


def test_each_key_is_in_the_readme_layout_table():
    built = [
        keys.saga_key("<id>"),
        keys.log_key("<id>"),
        keys.document_key("<id>"),
        keys.lock_key("<id>"),
        keys.timer_key("<n>"),
        keys.LEGACY_TIMERS_KEY,
        keys.breaker_key("<type>", "<step>"),
        keys.idempotency_key("<user>", "<scope>", "<sha256>"),
        keys.worker_key("<hostname>"),
        keys.last_run_key("<"),
        keys.BEAT_LEADER_KEY,
        keys.FAULTS_KEY,
        keys.FAULT_CALLS_KEY,
        keys.stream_key("<name>"),
        keys.errors_key("<group>"),
    ]
    missing = [key for key in built if f"| `{key}" not in README]
    assert missing == []


def test_a_saga_hash_key_gives_back_its_id():
    assert keys.saga_id_of(keys.saga_key("abc")) == "abc"
    assert keys.saga_id_of(keys.log_key("abc")) is None


def test_streams_follow_the_prefix_setting(settings):
    settings.SAGAOPS_STREAM_PREFIX = "other:"
    assert keys.errors_key("inventory") == "other:errors:inventory"


def _string_constants(tree: ast.AST):
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_no_engine_module_spells_a_redis_key_of_its_own():
    """A key literal outside sagaops.keys (the Django cache's own keys aside: they get its prefix)."""
    found = []
    for path in ENGINE.rglob("*.py"):
        if path.name in ("keys.py", "conf.py", "settings.py") or "migrations" in path.parts:
            continue
        for node in _string_constants(ast.parse(path.read_text())):
            if node.value.startswith(KEY_PREFIXES) and " " not in node.value:
                found.append(f"{path.relative_to(ENGINE)} {node.value!r}")
    assert found == ["console/filters.py 'sagaops:console:error-types'"]
