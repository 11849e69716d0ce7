"""`python -m forewarn.hook EVENT [--agent NAME]`: the same hook as `run.py`, through the package."""

from __future__ import annotations

import sys

from forewarn.hook.pipeline import main

sys.exit(main(sys.argv[1:]))
