"""`python -m forewarn …`: the same as the `forewarn` command (handy where scripts are not on PATH)."""

from forewarn.cli.main import run

if __name__ == "__main__":
    run()
