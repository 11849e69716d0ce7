"""The `forewarn` command: a thin shell over the library.

Each command lives in its own module under `forewarn.cli.commands`, parses its options, calls one
library function and hands the result to `forewarn.cli.render`. `ForewarnError` is caught here
once: one line on stderr and its exit code. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
from importlib import import_module
from typing import NoReturn

import click

from forewarn import __version__, regexes
from forewarn.cli.context import Context
from forewarn.errors import ForewarnError

# command name -> module under forewarn.cli.commands exporting `command` (imported lazily so that
# `forewarn scan` on an unchanged history does not pay for importing every other command)
COMMANDS: dict[str, str] = {
    "scan": "scan",
    "learn": "learn",
    "eval": "evaluate",
    "install": "install",
    "uninstall": "uninstall",
    "doctor": "doctor",
    "stats": "stats",
    "report": "report",
    "dashboard": "dashboard",
    "report-failure": "report_failure",
    "config": "config",
    "lessons": "lessons",
    "run": "run",
    "teach": "teach",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        cmd: click.Command = import_module(f"forewarn.cli.commands.{module}").command
        if not gc.isenabled():  # `run` turned the collector off for the imports: see there
            gc.freeze()
            gc.enable()
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="forewarn")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), envvar="FOREWARN_DB",
              help="SQLite database to use (default: $FOREWARN_HOME/forewarn.db).")
@click.option("-q", "--quiet", is_flag=True, help="Print only results and errors.")
@click.option("-v", "--verbose", count=True, help="Say more (repeat for more detail).")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None, quiet: bool, verbose: int) -> None:
    """forewarn: make coding agents stop repeating their mistakes.

    It reads your agents' session logs, pairs each failed tool call with the call that fixed
    it, and turns recurring pairs into lessons delivered through instruction files and hooks.
    Everything runs offline.
    """
    ctx.obj = Context(db_path=db_path, quiet=quiet, verbose=0 if quiet else verbose)
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> int:
    try:
        # without standalone mode click RETURNS the code of a command's `Exit(code)`
        code = cli.main(args=argv, prog_name="forewarn", standalone_mode=False)
    except ForewarnError as err:
        click.echo(f"forewarn: error: {err}", err=True)
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("forewarn: aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Exit as err:
        return err.exit_code
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        click.echo("forewarn: interrupted", err=True)
        return 130
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def run() -> NoReturn:
    """The `forewarn` console script: `main`, then a quick exit.

    By the time `main` returns, the command has closed what it opened (the store through the
    click context) and only Python's own shutdown is left: freeing every object and module, which
    the operating system does at once anyway. That costs 20-40 ms, a large part of a short
    command such as a scan with nothing new, so it is skipped. Exit handlers still run, and
    output is flushed first. If a command left a thread running, Python's normal exit (which
    waits for it) is kept.

    Regular expressions compiled by this command that the cache did not have are added to it
    (`forewarn.regexes`).

    The garbage collector is off until the command's module is imported: imports make thousands
    of objects that live as long as the process, and walking them over and over finds nothing.
    They are then frozen (never walked again) and the collector turns back on for the command."""
    gc.disable()
    try:
        code = main()
    except SystemExit as exc:  # click's own exit, after output was cut short by a closed pipe
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    regexes.save()  # patterns this command compiled anew: the next one loads them ready-made
    threading = sys.modules.get("threading")
    if threading is not None and any(t.is_alive() and not t.daemon for t in threading.enumerate()
                                     if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()  # what `sys.exit` would run, e.g. logging's and multiprocessing's
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (`forewarn scan --json | head`) or stream has nothing left to take
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
