"""The hot path that delivers lessons through the agents' hooks (run before every tool call).

Kept empty on purpose: `run.py` imports `forewarn.hook.pipeline` through this package on every tool
call, and nothing here may cost time. Only the standard library is used anywhere on that path;
`tests/test_hook_imports.py` guards it.
"""
