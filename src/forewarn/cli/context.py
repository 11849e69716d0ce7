"""Options shared by every command, and lazy access to the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from forewarn.store import Store


@dataclass
class Context:
    db_path: str | None = None
    quiet: bool = False
    verbose: int = 0
    _store: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        """The store, opened on first use (commands that need no database never open one)."""
        if self._store is None:
            from forewarn.paths import default_db_path
            from forewarn.store import Store

            path = Path(self.db_path).expanduser() if self.db_path else default_db_path()
            self._store = Store.open(path)
        return self._store

    def close(self) -> None:
        """Close the store if a command opened it (called when the command's click context ends)."""
        if self._store is not None:
            self._store.close()
            self._store = None


pass_context = click.make_pass_decorator(Context)

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
