"""What the scenario scripts share: options, a progress bar, files, summaries.

A scenario is a plain script in ``scenarios/`` with a ``main(argv)`` function.
It starts with :func:`start`, which reads the common options::

    --out DIR     where the figures and trace.csv go (default: ./<scenario name>)
    --epochs N    how long to train (tests use small values)
    --seed N      the seed of the random initial weights
    --quiet       print nothing but errors, show no progress bar

and returns a :class:`Scenario`, whose methods print the summary
(:meth:`Scenario.say`, :meth:`Scenario.table`), show progress
(:meth:`Scenario.progress`) and write files (:meth:`Scenario.save`,
:meth:`Scenario.save_trace`). A script ends with
``if __name__ == "__main__": scenario.run_script(main)``.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> s = Scenario("demo", Path("demo"), epochs=1, seed=0, quiet=False, stdout=out)
>>> s.table(["w", "before", "after"], [["w1", 1.5, 0.6614], ["w5", 1.2, -1.39875]])
>>> print(out.getvalue(), end="")
  w   before     after
  w1     1.5    0.6614
  w5     1.2  -1.39875
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

# The command owns the error handling and the option types; the toolkit uses
# them, and the command never imports the toolkit.
from neurosim.cli import (
    epochs_int,
    non_negative_int,
    positive_int,
    report_errors,
    use_agg,
)

__all__ = [
    "ProgressBar",
    "Scenario",
    "fmt",
    "non_negative_int",
    "positive_int",
    "run_script",
    "start",
]


def fmt(x: float, digits: int = 10) -> str:
    """A number for the terminal: up to `digits` significant digits, no noise.

    Examples
    --------
    >>> fmt(-1.3987500000000002), fmt(114.67531249999999), fmt(17.0)
    ('-1.39875', '114.6753125', '17')
    """
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


class ProgressBar:
    """A one-line progress bar on a terminal, fed by ``progress(done, total)``.

    It appears only once the run has lasted `delay` seconds, redraws at most
    every `interval` seconds, and stays hidden when `enabled` is false or the
    stream is not a terminal (a pipe, a log file, a test). Use it as a
    context manager: leaving it erases the line.

    Parameters
    ----------
    label : str
        Written before the bar.
    stream : file, optional
        Where to draw; ``sys.stderr`` by default, so that the summary on
        stdout stays clean.
    enabled : bool
        False hides it (``--quiet``).
    delay, interval : float
        Seconds before the first drawing, and between two drawings.
    """

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        delay: float = 0.5,
        interval: float = 0.1,
        width: int = 30,
    ):
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.visible = enabled and callable(isatty) and isatty()
        self.delay = delay
        self.interval = interval
        self.width = width
        self._start = time.monotonic()
        self._last = -math.inf
        self._drawn = 0  # length of the line on screen

    def __call__(self, done: int, total: int) -> None:
        if not self.visible:
            return
        now = time.monotonic()
        if now - self._start < self.delay:
            return
        if now - self._last < self.interval and done < total:
            return
        self._last = now
        fraction = done / total if total else 1.0
        filled = round(self.width * fraction)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total} {fraction:4.0%}"
        self.stream.write("\r" + line.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(line)

    def close(self) -> None:
        """Erase the bar, if it was drawn."""
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class Scenario:
    """A running scenario: its options and the places its output goes.

    Attributes
    ----------
    name : str
        The script's name without ``.py``.
    out : Path
        The output folder (created by :func:`start`).
    epochs, seed : int
        The options ``--epochs`` and ``--seed``.
    quiet : bool
        ``--quiet``: no summary, no progress bar.
    options : argparse.Namespace
        Everything parsed, the scenario's own options included.
    written : list of Path
        The files written so far, for the closing line.
    """

    name: str
    out: Path
    epochs: int
    seed: int
    quiet: bool
    options: argparse.Namespace = field(default_factory=argparse.Namespace)
    stdout: TextIO | None = None
    written: list[Path] = field(default_factory=list)

    def say(self, text: str = "") -> None:
        """Print a line of the summary (nothing with ``--quiet``)."""
        if not self.quiet:
            print(text, file=self.stdout or sys.stdout)

    def paragraph(self, text: str, *, indent: int = 0, width: int = 88) -> None:
        """Print `text` wrapped to `width` columns (nothing with ``--quiet``)."""
        pad = " " * indent
        self.say(
            textwrap.fill(
                " ".join(text.split()),
                width=width,
                initial_indent=pad,
                subsequent_indent=pad,
            )
        )

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        indent: int = 2,
        digits: int = 10,
        align: str | None = None,
    ) -> None:
        """Print rows as aligned columns: text to the left, numbers to the right.

        Floats are written with :func:`fmt`; `align` (``"l"`` or ``"r"`` per
        column, e.g. ``"lrr"``) overrides the choice.
        """
        cells = [
            [fmt(c, digits) if isinstance(c, float) else str(c) for c in row]
            for row in rows
        ]
        if align is None:
            align = "".join(
                "r"
                if all(isinstance(row[j], int | float) for row in rows if j < len(row))
                else "l"
                for j in range(len(headers))
            )
        widths = [
            max(len(str(h)), *(len(r[j]) for r in cells if j < len(r)))
            for j, h in enumerate(headers)
        ]

        def line(items: Sequence[str]) -> str:
            parts = [
                item.rjust(w) if align[j] == "r" else item.ljust(w)
                for j, (item, w) in enumerate(zip(items, widths, strict=False))
            ]
            return (" " * indent + "  ".join(parts)).rstrip()

        self.say(line([str(h) for h in headers]))
        for row in cells:
            self.say(line(row))

    def progress(self, label: str) -> ProgressBar:
        """A progress bar for ``Network.train(progress=...)``, on stderr."""
        return ProgressBar(f"{self.name}: {label}", enabled=not self.quiet)

    def path(self, filename: str) -> Path:
        """Where a file of this scenario goes; it is listed in the summary."""
        path = self.out / filename
        if path not in self.written:
            self.written.append(path)
        return path

    def save(self, figure: Any, filename: str, *, dpi: int = 150) -> Path:
        """Save a matplotlib Figure (or an Axes' figure) and close it.

        The file is replaced whole or not at all (a temporary file renamed
        into place); a name without an extension gets ``.png``. Returns the
        path written.
        """
        import matplotlib.pyplot as plt

        from neurosim._files import save_figure

        figure = getattr(figure, "figure", figure)  # an Axes gives its Figure
        path = self.path(filename)
        try:
            written = save_figure(figure, path, dpi=dpi)
        finally:
            plt.close(figure)
        if written != path:  # the extension matplotlib added
            self.written[self.written.index(path)] = written
        return written

    def save_trace(self, trace: Any, filename: str = "trace.csv") -> Path:
        """Write a :class:`neurosim.Trace` as CSV (``neurosim plot`` reads it).

        Like every file neurosim writes, it is replaced whole or not at all.
        """
        path = self.path(filename)
        trace.to_csv(path)
        return path

    def skip(self, reason: str) -> int:
        """Say on stderr why the scenario does not run, and return status 0.

        For a scenario that cannot run here (an optional package missing):
        the line is written even with ``--quiet``, since nothing else is.

        Examples
        --------
        >>> import contextlib
        >>> import io
        >>> s = Scenario("digits", Path("digits"), epochs=1, seed=0, quiet=True)
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     status = s.skip("it needs scikit-learn")
        >>> status
        0
        >>> print(err.getvalue(), end="")
        digits: skipped: it needs scikit-learn
        """
        print(f"{self.name}: skipped: {reason}", file=sys.stderr)
        return 0

    def finish(self) -> int:
        """Print which files were written and return the exit status 0."""
        if self.written:
            names = ", ".join(p.name for p in self.written)
            self.say(f"Wrote {names} to {self.out}{os.sep}")
        return 0


def _prog(name: str) -> str:
    """``worked_example.py`` when run as a script, else ``neurosim run NAME``."""
    argv0 = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return argv0 if argv0 == f"{name}.py" else f"neurosim run {name}"


def start(
    file: str,
    doc: str | None,
    argv: Sequence[str] | None,
    *,
    epochs: int,
    seed: int = 0,
    epochs_help: str = "training epochs",
    seed_help: str = "seed of the random initial weights",
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> Scenario:
    """Parse a scenario's options and create its output folder.

    Parameters
    ----------
    file, doc : str
        The script's ``__file__`` (its name names the scenario and the
        default output folder) and ``__doc__`` (the ``--help`` text).
    argv : sequence of str, optional
        The options; ``sys.argv[1:]`` by default.
    epochs, seed : int
        The defaults of ``--epochs`` and ``--seed``.
    epochs_help, seed_help : str
        What ``--epochs`` and ``--seed`` do in this scenario.
    extra : callable, optional
        Called with the parser to add the scenario's own options.

    Returns
    -------
    Scenario

    Raises
    ------
    SystemExit
        From ``argparse``, for ``--help`` or a bad option (status 2).
    """
    name = Path(file).stem
    parser = argparse.ArgumentParser(
        prog=_prog(name),
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(name),
        metavar="DIR",
        help=f"folder for the figures and trace.csv (default: ./{name})",
    )
    parser.add_argument(
        "--epochs",
        type=epochs_int,
        default=epochs,
        metavar="N",
        help=f"{epochs_help} (default: {epochs})",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=seed,
        metavar="N",
        help=f"{seed_help} (default: {seed})",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing but errors; no progress bar",
    )
    if extra is not None:
        extra(parser)
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    return Scenario(
        name=name,
        out=options.out,
        epochs=options.epochs,
        seed=options.seed,
        quiet=options.quiet,
        options=options,
    )


def run_script(main: Callable[[list[str]], int]) -> None:
    """Run a scenario's ``main`` as a script, the way ``neurosim run`` does.

    Figures are drawn off screen, and a user's mistake (a
    :class:`~neurosim.DivergenceError`, :class:`~neurosim.DataError`,
    :class:`~neurosim.NetworkError` or a file that cannot be written) ends
    the program with a one-line message and status 1.
    """
    use_agg()
    with report_errors() as status:
        status.code = main(sys.argv[1:])
    sys.exit(status.code)
