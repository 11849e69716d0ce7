"""The hook's entry script: `python -I -S /abs/path/to/forewarn/hook/run.py EVENT [--agent NAME]`.

Agents run this before every tool call, so it is written for start-up time: `-I -S` skips
site-packages (the interpreter starts in about half the time), which is why the script puts its own
package's parent directory on `sys.path` by hand. It is also what `forewarn install` writes into the
agents' settings, with absolute paths, so it works whichever directory the agent runs it from.

Invariant: it prints one JSON document and exits 0 whatever happens, even on a Python too old to
import the package (the syntax here stays compatible with old interpreters for that reason).
"""

import sys


def _answer_nothing():
    sys.stdout.write("{}\n")
    sys.stdout.flush()
    return 0


if sys.version_info < (3, 10):
    sys.exit(_answer_nothing())

try:
    import os

    _src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if _src not in sys.path:
        sys.path.insert(0, _src)
    from forewarn.hook.pipeline import main
except BaseException:
    sys.exit(_answer_nothing())

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
