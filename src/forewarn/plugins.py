"""Adapters found through entry points: readers, writers and teachers share this one mechanism.

forewarn's own adapters are listed as built-in import specs (so a source tree works without the
package's entry points installed) and registered as entry points too, like any third-party one;
an entry point may replace a built-in of the same name. A plugin that fails to load is skipped
with a warning: it never takes forewarn down.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Any


def load_spec(spec: str) -> Any:
    """The object named by an import spec `module.path:attribute`."""
    module_name, _, attr = spec.partition(":")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def discover(group: str, builtins: dict[str, str], *, load_builtins: bool = True) -> dict[str, Any]:
    """name -> adapter for every built-in and every entry point of `group`, built-ins first.

    With `load_builtins=False` built-ins stay import specs (strings), loaded only when chosen, so
    that e.g. picking the webhook teacher never imports the Anthropic SDK."""
    found: dict[str, Any] = {name: load_spec(spec) if load_builtins else spec for name, spec in builtins.items()}
    own = set(builtins.values())
    for ep in entry_points(group=group):
        if ep.value in own:
            continue
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # a broken plugin must not take forewarn down with it
            warnings.warn(f"forewarn: {group} plugin {ep.name!r} failed to load: {exc}", stacklevel=3)
    return found
