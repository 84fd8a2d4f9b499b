"""The names the command line offers as choices, read from kgan's source without importing it.

`kgan --help`, `kgan CMD --help` and argument errors must not wait for TensorFlow, so the
parsers take these names from the modules that define them, parsed (`ast`), not executed: the
trainers registered with `@register_trainer("name")` under `kgan/models/`, the keys of
`kgan.losses.LOSSES` and `kgan.distribute.STRATEGIES`. Each stays defined in one place; a test
checks that what is read here equals what the imported modules hold.
"""

import ast
import functools
import pathlib
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[1]


@functools.cache
def _module(relative):
    return ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))


def _constant(relative, name):
    """The literal names of the module-level constant `name`: a dict's keys or a tuple."""
    for node in _module(relative).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            if isinstance(node.value, ast.Dict):
                return tuple(ast.literal_eval(key) for key in node.value.keys)
            return tuple(ast.literal_eval(node.value))
    raise LookupError(f"kgan/{relative} defines no literal {name}")


def _registered(tree):
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for decorator in node.decorator_list:
            function = decorator.func if isinstance(decorator, ast.Call) else None
            called = getattr(function, "id", None) or getattr(function, "attr", None)
            if called == "register_trainer" and decorator.args:
                first = decorator.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield first.value


@functools.cache
def _builtin_trainers():
    names = set()
    for path in sorted((PACKAGE / "models").rglob("*.py")):
        names.update(_registered(_module(str(path.relative_to(PACKAGE)))))
    return frozenset(names)


def trainer_names():
    """kgan's registered trainers, and any registered since in this process (when
    `kgan.models` is loaded), sorted."""
    names = set(_builtin_trainers())
    models = sys.modules.get("kgan.models")
    if models is not None and hasattr(models, "list_trainers"):
        names.update(models.list_trainers())
    return sorted(names)


def loss_names():
    """The adversarial losses, as `kgan.losses.LOSSES` names them."""
    return _constant("losses.py", "LOSSES")


def strategy_names():
    """The distribution strategies of `kgan.distribute.get_strategy`."""
    return _constant("distribute.py", "STRATEGIES")
