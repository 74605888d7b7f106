"""Math channels: expressions over a lap's channels (``speed / 3.6``, ``rpm * gear``, ``abs(glat)``).

An expression is parsed with :mod:`ast` and evaluated by walking the tree with numpy, over an
allow-list of node types and functions: nothing is ever passed to ``eval`` or ``exec``, and
an attribute, subscript, lambda or unknown name is an error before anything runs. Channels
are named by their identifier: the channel name with every character that is not a letter,
digit or underscore replaced by ``_`` (``Wheel Speed FL`` -> ``Wheel_Speed_FL``). NaN (no
sample) stays NaN through every operation.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from storage.errors import LaptraceError
from storage.types import FloatArray

__all__ = ["FUNCTIONS", "MathChannel", "MathChannelError", "evaluate", "identifier", "parse"]


class MathChannelError(LaptraceError):
    """A math channel's expression cannot be evaluated; the message says where and why."""


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": np.abs,
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arctan2": np.arctan2,
    "hypot": np.hypot,
    "minimum": np.fmin,
    "maximum": np.fmax,
    "where": np.where,
}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: np.fmod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


#: the node types an expression may hold
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
)


def identifier(channel: str) -> str:
    """The name a channel has in an expression."""
    name = re.sub(r"\W", "_", channel)
    return f"_{name}" if name[:1].isdigit() else name


@dataclass(frozen=True)
class MathChannel:
    """A named expression; ``unit`` is the user's (it is not derived)."""

    name: str
    expression: str
    unit: str = ""


def parse(expression: str) -> ast.Expression:
    """The checked tree of ``expression`` (raises :class:`MathChannelError`)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise MathChannelError(
            f"math channel {expression!r}: not an expression at column {exc.offset or 0}: {exc.msg}"
        ) from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise MathChannelError(
                f"math channel {expression!r}: {type(node).__name__} is not allowed "
                f"at column {getattr(node, 'col_offset', 0) + 1} (numbers, channels, + - * / ** %, "
                f"comparisons and {', '.join(sorted(FUNCTIONS))} only)"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise MathChannelError(f"math channel {expression!r}: {node.value!r} is not a number")
        if isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords
        ):
            raise MathChannelError(
                f"math channel {expression!r}: unknown function at column {node.col_offset + 1} "
                f"(known: {', '.join(sorted(FUNCTIONS))})"
            )
        if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
            raise MathChannelError(f"math channel {expression!r}: operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.UnaryOp) and type(node.op) not in _UNARY:
            raise MathChannelError(f"math channel {expression!r}: operator {type(node.op).__name__} is not allowed")
    return tree


def names_used(expression: str) -> set[str]:
    """The channel identifiers an expression reads."""
    tree = parse(expression)
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in functions}


def evaluate(expression: str, channels: Mapping[str, FloatArray]) -> FloatArray:
    """``expression`` over ``channels`` (by name; see :func:`identifier`), as float64.

    The result has the channels' length (a constant expression is broadcast to it).
    """
    tree = parse(expression)
    by_id = {identifier(name): values for name, values in channels.items()}
    length = next((v.shape[0] for v in channels.values()), 0)

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))  # checked by parse
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in by_id:
                known = ", ".join(sorted(by_id)) or "none"
                raise MathChannelError(
                    f"math channel {expression!r}: no channel {node.id!r} at column {node.col_offset + 1} "
                    f"(channels: {known})"
                )
            return by_id[node.id]
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](walk(node.operand))
        if isinstance(node, ast.Compare):
            left = walk(node.left)
            result: Any = True
            for op, right_node in zip(node.ops, node.comparators):
                right = walk(right_node)
                result = np.logical_and(result, _COMPARE[type(op)](left, right))
                left = right
            return np.asarray(result, dtype=np.float64)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return FUNCTIONS[node.func.id](*(walk(a) for a in node.args))
        raise MathChannelError(f"math channel {expression!r}: cannot evaluate {type(node).__name__}")

    with np.errstate(all="ignore"):  # 0/0 and log(0) give NaN/inf, as a logger would show them
        try:
            value = walk(tree)
        except TypeError as exc:
            raise MathChannelError(f"math channel {expression!r}: {exc}") from None
    out = np.asarray(value, dtype=np.float64)
    if out.ndim == 0:
        return np.full(length, float(out))
    return out
