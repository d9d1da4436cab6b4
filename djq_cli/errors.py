"""One clear line on stderr for every failure; a traceback only with -vv."""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable


def describe(exc: BaseException) -> str:
    from django.core.exceptions import ImproperlyConfigured

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        from django.db import DatabaseError, InterfaceError

        if isinstance(exc, (DatabaseError, InterfaceError)):
            return f"database error: {text}{_fix_for_database(text)}"
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, ImproperlyConfigured):
        fix = _fix_for_configuration(str(exc))
        return f"configuration error: {text.rstrip('.') if fix else text}{fix}"
    return text


#: What missing or stale djq tables look like, per vendor.
_STALE_SCHEMA = re.compile(
    r"no such (table|column): djq_|has no column named|djq_\w+\S* does not exist|Table '[^']*djq_\w+' doesn't exist"
    r"|Unknown column|column \S+ of relation \"djq_",
    re.IGNORECASE,
)


def _fix_for_database(text: str) -> str:
    if _STALE_SCHEMA.search(text):
        return "; djq's tables are missing or out of date: run `djq migrate`"
    return ""


def _fix_for_configuration(text: str) -> str:
    if "MySQLdb" in text or "mysqlclient" in text:
        return '; install the MySQL/MariaDB driver: pip install "djq[mysql]"'
    if "psycopg" in text:
        return '; install the PostgreSQL driver: pip install "djq[postgres]"'
    return ""


def usage_message(exc) -> str:
    """A Click usage error as one line, with where to look: ``no such option: --jsn (see `djq jobs list -h`)``."""
    from .commands.base import one_line

    text = one_line(exc.format_message())
    text = re.sub(r"\(Possible options: ([^)]*)\)", r"(did you mean \1?)", text)
    text = text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        text += f" (see `{ctx.command_path} {ctx.help_option_names[0]}`)"
    return text


def run_guarded(call: Callable[[], object], *, verbose: int = 0) -> int:
    """Run the command tree (in Click's non-standalone mode) and turn every outcome into an exit code."""
    from typer import Abort
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    try:
        result = call()
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n")
        return 2
    except ClickException as exc:
        sys.stderr.write(f"djq: error: {usage_message(exc)}\n")
        return exc.exit_code
    except Abort:
        sys.stderr.write("djq: error: aborted\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("djq: interrupted\n")
        return 130
    except BrokenPipeError:
        return quiet_broken_pipe()
    except Exception as exc:
        if verbose >= 2:
            traceback.print_exc()
        sys.stderr.write(f"djq: error: {describe(exc)}\n")
        return 1
    return result if isinstance(result, int) else 0


def quiet_broken_pipe() -> int:
    """The reader went away (``djq jobs list | head -1``): exit quietly, as Unix tools do."""
    import os

    # Python would flush stdout again at exit and complain; point it at /dev/null.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the broken pipe
