"""Writing files whole or not at all: the one way neurosim writes a file.

:func:`atomic_write` writes to a temporary file in the target's folder and
renames it into place once everything is written and flushed to disk; an
error or an interrupt (``KeyboardInterrupt`` included) removes the temporary
file and leaves what was at the path before, byte for byte.
:func:`save_figure` saves a matplotlib figure through it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "save_figure"]


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file that replaces `path` when the block ends without error.

    The file is ``.<name>.<random>.tmp`` in the same folder (so that the
    rename never crosses file systems), created with the permissions a new
    file gets (``0o666`` less the umask). On success it is flushed,
    ``fsync``-ed and renamed over `path` with ``os.replace``; on any
    exception it is removed and the exception propagates.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_write(folder / "a.txt") as file:
    ...     _ = file.write(b"all of it")
    >>> (folder / "a.txt").read_bytes()
    b'all of it'
    >>> try:
    ...     with atomic_write(folder / "a.txt") as file:
    ...         _ = file.write(b"half")
    ...         raise KeyboardInterrupt
    ... except KeyboardInterrupt:
    ...     pass
    >>> (folder / "a.txt").read_bytes(), sorted(p.name for p in folder.iterdir())
    (b'all of it', ['a.txt'])
    """
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temporary, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a hundred collisions of 32 random bits
        raise FileExistsError(f"cannot create a temporary file beside {path}")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where it cannot be done)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_figure(figure: Any, path: str | os.PathLike[str], **options: Any) -> Path:
    """Save a matplotlib Figure (or an Axes' figure) with :func:`atomic_write`.

    The extension of `path` picks the format, as in ``Figure.savefig``; a
    path without one gets matplotlib's default format and its extension
    (``figure`` becomes ``figure.png``), as ``savefig`` does.

    Returns
    -------
    pathlib.Path
        The path written, extension included.

    Raises
    ------
    ValueError
        A format matplotlib cannot write; nothing is written.
    """
    import matplotlib

    figure = getattr(figure, "figure", figure)  # an Axes gives its Figure
    path = Path(path)
    fmt = path.suffix[1:].lower()
    if not fmt:
        fmt = matplotlib.rcParams["savefig.format"]
        path = path.with_name(f"{path.name}.{fmt}")
    supported = figure.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
            f"format {fmt!r} is not supported (supported formats: "
            f"{', '.join(sorted(supported))})"
        )
    with atomic_write(path) as file:
        figure.savefig(file, format=fmt, **options)
    return path
