"""forewarn: make coding agents stop repeating their mistakes.

This module stays nearly empty on purpose: the hook imports `forewarn.hook` on every tool call and
must not pay for anything else.
"""

__version__ = "0.1.0"
