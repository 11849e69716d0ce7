"""Turning command results into output: `--json` for scripts, rich text for people.

Commands return plain data (dicts, lists, dataclasses); nothing in the library prints.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable
from typing import Any

import orjson


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(data: Any, *, indent: bool = False) -> str:
    option = orjson.OPT_NON_STR_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(data, default=_default, option=option).decode()


def print_json(data: Any) -> None:
    sys.stdout.write(dumps(data, indent=True) + "\n")


def print_jsonl(rows: Iterable[Any]) -> None:
    write = sys.stdout.write
    for row in rows:
        write(dumps(row) + "\n")


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def table(title: str | None, columns: list[str], rows: Iterable[Iterable[Any]]) -> Any:
    from rich.table import Table

    t = Table(title=title, show_edge=False, header_style="bold")
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t
