"""The ``neurosim`` command: run the scenarios, replot a saved trace.

::

    neurosim list                        the scenarios, one line each
    neurosim run NAME|PATH [options]     run a scenario (--out --epochs --seed --quiet)
    neurosim demo [--out DIR] [--quiet]  the worked example: one step by hand
    neurosim plot TRACE.csv --out FILE [--epoch N] [--sample N] [--no-check]
    neurosim view TRACE.csv [--out PAGE.html] [--no-check]   a web page, live
    neurosim --version

Scenarios are plain scripts with a ``main(argv)`` function. They are found in
the installed package (``neurosim/_scenarios``, where the wheel puts them) and
in a clone (``<repo>/scenarios``). A user's mistake ends the command with one
line, ``neurosim: error: ...``, and a non-zero status; only an unexpected
failure shows a traceback.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import neurosim
from neurosim.errors import DataError, DivergenceError, NetworkError

__all__ = [
    "CliError",
    "describe",
    "find_scenarios",
    "main",
    "non_negative_int",
    "positive_int",
    "report_errors",
    "resolve",
    "run_scenario",
    "scenario_dirs",
    "use_agg",
]

PROG = "neurosim"
DEMO = "worked_example"


class CliError(Exception):
    """A mistake on the command line; its message is printed as one line."""


def _int_at_least(
    minimum: int, doc: str, maximum: int | None = None
) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
        return value

    parse.__doc__ = doc
    return parse


positive_int = _int_at_least(1, "An ``argparse`` type: an integer >= 1.")
non_negative_int = _int_at_least(0, "An ``argparse`` type: an integer >= 0 (a seed).")
MOST_EPOCHS = 10**9
"""The largest ``--epochs``: more would take days and more memory than a
machine has (the history keeps every sample's loss and outputs)."""
epochs_int = _int_at_least(
    1, f"An ``argparse`` type: an integer from 1 to {MOST_EPOCHS}.", MOST_EPOCHS
)


def use_agg() -> None:
    """Draw off screen: the command only writes files, it never shows a window."""
    import matplotlib

    matplotlib.use("Agg")


# ----------------------------------------------------------------------
# finding scenarios


def scenario_dirs() -> list[Path]:
    """The folders holding scenarios, installed copy first, existing ones only."""
    package = Path(neurosim.__file__).resolve().parent
    candidates = [package / "_scenarios", package.parent / "scenarios"]
    return [d for d in candidates if d.is_dir()]


def find_scenarios() -> dict[str, Path]:
    """``{name: path}`` of every scenario script, sorted by name.

    A name found in two folders is taken from the first (the installed one).
    """
    found: dict[str, Path] = {}
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.py")):
            if not path.name.startswith("_"):
                found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def describe(path: Path) -> str:
    """The first line of a script's module docstring, read without running it."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return "(unreadable)"
    doc = ast.get_docstring(tree)
    return doc.strip().splitlines()[0] if doc else "(no description)"


def resolve(name_or_path: str) -> Path:
    """The script a ``run`` argument means: a known name, or a path to a file.

    Raises
    ------
    CliError
        An unknown name (the message lists the known ones) or a missing file.
    """
    known = find_scenarios()
    if name_or_path in known:
        return known[name_or_path]
    path = Path(name_or_path)
    if path.is_file():
        return path
    if len(path.parts) == 1 and path.suffix == ".py" and path.stem in known:
        return known[path.stem]  # `neurosim run xor.py` from anywhere
    if path.suffix == ".py" or len(path.parts) > 1:
        raise CliError(f"no such scenario file: {name_or_path}")
    choices = ", ".join(known) or "none found"
    raise CliError(f"unknown scenario {name_or_path!r}; known scenarios: {choices}")


def run_scenario(path: Path, argv: Sequence[str]) -> int:
    """Run the scenario script at `path` with the options `argv`.

    A script with a ``main(argv)`` function is imported under a private
    module name and its ``main`` called (the folder need not be a package);
    any other script runs as ``__main__`` with ``sys.argv`` set.

    Returns
    -------
    int
        The exit status (``argparse``'s ``SystemExit`` included).
    """
    name = f"_neurosim_scenario_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"cannot load {path} as a Python script")
    saved_argv = sys.argv
    try:
        if not _defines_main(path):
            sys.argv = [str(path), *argv]
            runpy.run_path(str(path), run_name="__main__")
            return 0
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickle look modules up
        try:
            spec.loader.exec_module(module)
            return int(module.main(list(argv)) or 0)
        finally:
            sys.modules.pop(name, None)
    except SystemExit as exit:
        code = exit.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved_argv


def _defines_main(path: Path) -> bool:
    """Whether the script defines a top-level ``main`` function (read, not run)."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as error:
        where = f", line {error.lineno}" if error.lineno else ""
        raise CliError(f"{path}{where}: {error.msg}") from None
    except ValueError as error:  # null bytes (Python < 3.12)
        raise CliError(f"{path} is not a Python script: {error}") from None
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main"
        for node in tree.body
    )


# ----------------------------------------------------------------------
# the commands


def _list(options: argparse.Namespace) -> int:
    scenarios = find_scenarios()
    if not scenarios:
        raise CliError("no scenarios found (looked in the package and the clone)")
    width = max(len(name) for name in scenarios)
    for name, path in scenarios.items():
        print(f"{name.ljust(width)}  {describe(path)}")
    return 0


def _run(options: argparse.Namespace) -> int:
    return run_scenario(resolve(options.scenario), options.args)


def _demo(options: argparse.Namespace) -> int:
    argv = ["--out", options.out] if options.out is not None else []
    if options.quiet:
        argv.append("--quiet")
    return run_scenario(resolve(DEMO), argv)


def _read_trace(options: argparse.Namespace) -> neurosim.Trace:
    """The trace named on the command line (.jsonl, or else CSV)."""
    from neurosim.trace import Trace

    path = Path(options.trace)
    read = Trace.read_jsonl if path.suffix == ".jsonl" else Trace.read_csv
    try:
        return read(path, check=not options.no_check)
    except OSError as error:
        raise CliError(f"cannot read trace {path}: {error.strerror}") from None


def _plot(options: argparse.Namespace) -> int:
    import matplotlib.pyplot as plt

    from neurosim import plot
    from neurosim._files import save_figure

    path = Path(options.trace)
    trace = _read_trace(options)
    iterations = trace.iterations()
    if not iterations:
        raise CliError(f"{path} holds no messages or updates to plot")
    epoch, sample = options.epoch, options.sample
    wanted = [
        (e, s)
        for e, s in iterations
        if (epoch is None or e == epoch) and (sample is None or s == sample)
    ]
    if not wanted:
        asked = " and ".join(
            f"{name} {value}"
            for name, value in (("epoch", epoch), ("sample", sample))
            if value is not None
        )
        epochs = sorted({e for e, _ in iterations})
        samples = sorted({s for _, s in iterations})
        raise CliError(
            f"{path} has no iteration with {asked}; it holds epochs "
            f"{_span(epochs)}, samples {_span(samples)}"
        )
    ax = plot.timeline(trace, epoch=epoch, sample=sample)
    out = Path(options.out)
    try:
        out = save_figure(ax.figure, out, dpi=150)
    except OSError as error:
        raise CliError(f"cannot write {out}: {error.strerror}") from None
    except ValueError as error:  # an unknown image format
        raise CliError(f"cannot write {out}: {error}") from None
    finally:
        plt.close(ax.figure)
    if not options.quiet:
        print(f"Wrote {out}")
    return 0


def _view(options: argparse.Namespace) -> int:
    path = Path(options.trace)
    out = Path(options.out) if options.out is not None else path.with_suffix(".html")
    if out.resolve() == path.resolve():
        raise CliError(f"--out {out} would overwrite the trace itself")
    if out.is_dir():
        raise CliError(f"cannot write {out}: it is a folder (give a file name)")
    if not out.parent.is_dir():
        raise CliError(f"cannot write {out}: no such folder {out.parent}")
    trace = _read_trace(options)
    try:
        out = trace.to_html(out, title=f"neurosim: {path.name}")
    except OSError as error:
        raise CliError(f"cannot write {out}: {error.strerror}") from None
    if not options.quiet:
        size = out.stat().st_size
        print(f"Wrote {out} ({size / 1024:,.0f} KiB); open it in a web browser")
    return 0


def _span(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]} to {values[-1]}"


# ----------------------------------------------------------------------
# the parser


def build_parser() -> argparse.ArgumentParser:
    """The ``neurosim`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Simulate a neural network as neurons passing messages in "
            "virtual time, and see backpropagation happen."
        ),
        epilog="Start with: neurosim demo",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {neurosim.__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    listing = commands.add_parser("list", help="list the scenarios")
    listing.set_defaults(handler=_list)

    run = commands.add_parser(
        "run",
        help="run a scenario by name or path",
        description=(
            "Run a scenario (see `neurosim list`) or any scenario script by "
            "path. The options after NAME go to the scenario: every scenario "
            "takes --out DIR, --epochs N, --seed N and --quiet; "
            "`neurosim run NAME --help` lists them all."
        ),
        usage="%(prog)s NAME|PATH [--out DIR] [--epochs N] [--seed N] [--quiet]",
    )
    run.add_argument("scenario", metavar="NAME|PATH")
    run.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    run.set_defaults(handler=_run)

    demo = commands.add_parser(
        "demo",
        help="the worked example: one step by hand, then η = 0.1 vs 0.02",
        description="Run the worked example: one step of backpropagation on a "
        "2-2-2 network, as done by hand, then repeated at η = 0.1 and 0.02 "
        f"(scenario {DEMO!r}); figures go to ./{DEMO} by default.",
    )
    demo.add_argument(
        "--out", metavar="DIR", help=f"folder for the files (default: ./{DEMO})"
    )
    demo.add_argument("--quiet", action="store_true", help="print only errors")
    demo.set_defaults(handler=_demo)

    plotting = commands.add_parser(
        "plot",
        help="draw the message timeline of a saved trace",
        description="Draw one iteration of a trace written by a scenario "
        "(trace.csv, or .jsonl) as a timeline of messages in virtual time.",
    )
    plotting.add_argument("trace", metavar="TRACE.csv")
    plotting.add_argument(
        "--out", required=True, metavar="FILE", help="the image to write (.png, .svg)"
    )
    plotting.add_argument(
        "--epoch",
        type=non_negative_int,
        metavar="N",
        help="epoch, counted from 0 (default: the first)",
    )
    plotting.add_argument(
        "--sample",
        type=non_negative_int,
        metavar="N",
        help="sample, counted from 0 (default: the first)",
    )
    _trace_options(plotting)
    plotting.set_defaults(handler=_plot)

    viewing = commands.add_parser(
        "view",
        help="write a web page that shows a saved trace live",
        description="Write one self-contained HTML page (no server, no network) "
        "that plays a trace written by a scenario (trace.csv, or .jsonl): the "
        "message timeline with play, pause, a slider over virtual time, and "
        "what each message carried and each neuron computed. Open it in any "
        "web browser.",
    )
    viewing.add_argument("trace", metavar="TRACE.csv")
    viewing.add_argument(
        "--out",
        metavar="PAGE.html",
        help="the page to write (default: the trace's name with .html)",
    )
    _trace_options(viewing)
    viewing.set_defaults(handler=_view)
    return parser


def _trace_options(command: argparse.ArgumentParser) -> None:
    """The options of the commands that read a trace (plot, view)."""
    command.add_argument("--quiet", action="store_true", help="print only errors")
    command.add_argument(
        "--no-check",
        action="store_true",
        help="read a trace without its end line (hand-made, or older)",
    )


# ----------------------------------------------------------------------
# errors and the entry point

_USER_ERRORS = (CliError, DivergenceError, DataError, NetworkError)


@dataclass
class _Status:
    code: int = 0


@contextmanager
def report_errors() -> Iterator[_Status]:
    """Turn a user's mistake into ``neurosim: error: ...`` and status 1.

    Covers :class:`CliError`, :class:`~neurosim.DivergenceError`,
    :class:`~neurosim.DataError`, :class:`~neurosim.NetworkError` and
    ``OSError`` (a file that cannot be read or written). Anything else
    propagates with its traceback: it is a bug.
    """
    status = _Status()
    try:
        yield status
    except _USER_ERRORS as error:
        _error(str(error))
        status.code = 1
    except BrokenPipeError:  # `neurosim list | head`: the reader left, stop quietly
        _silence_stdout()
        status.code = 1
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        _error(f"{error.strerror or error}{where}")
        status.code = 1
    except KeyboardInterrupt:
        _error("interrupted")
        status.code = 130


def _silence_stdout() -> None:
    """Point stdout at devnull, so that Python's final flush does not fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test)
        pass


def _error(message: str) -> None:
    line = " ".join(message.split())  # one line, whatever the message
    print(f"{PROG}: error: {line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``neurosim`` command; return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 1 for an error, 2 for a bad option (``argparse``).
    """
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version, or a bad option
        return exit.code if isinstance(exit.code, int) else 2
    use_agg()
    with report_errors() as status:
        status.code = options.handler(options)
    return status.code


if __name__ == "__main__":
    sys.exit(main())
