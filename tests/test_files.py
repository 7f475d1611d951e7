"""Files: written whole or not at all, read back whole or refused.

Every file neurosim writes goes through ``neurosim._files.atomic_write`` (a
temporary file renamed into place); a trace ends with an end line (row
counts and a SHA-256) that the readers check; the readers bound what they
take, so that a hostile file is one ``DataError`` and never a traceback, a
hang or a memory blow-up.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from neurosim import cli, plot, trace
from neurosim._files import atomic_write, save_figure
from neurosim.errors import DataError
from neurosim.plot import mpl_animation
from neurosim.scenario import Scenario
from neurosim.trace import Trace
from tests.test_trace import assert_same, awkward_trace, int_node_trace, worked_example

ROOT = Path(__file__).resolve().parent.parent


def faulty_trace() -> Trace:
    """Quoted names, a vector value and a fate column: every CSV feature."""
    messages = [
        (0, 0, "forward", "a,1", "b", 0.0, 1.0, [1.0, 2.0], "delivered"),
        (0, 0, "forward", "a,1", 'b"', 0.0, 1.5, [0.5, -0.0], "dropped"),
        (0, 1, "backward", "b", "a,1", 2.0, 3.0, [1e-300, 3.0], "late"),
    ]
    updates = [(0, 0, "b", "a,1", 0.25, 0.125, 2.0), (0, 1, "b", None, 0.0, 1.0, 3.0)]
    return Trace.from_rows(messages, updates, ["a,1", "b", 'b"'])


def leftovers(folder: Path) -> list[str]:
    """Temporary files left in `folder`."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def seal_csv(body: str, messages: int, updates: int) -> str:
    """A CSV body with a correct end line (to test the limits, not the seal)."""
    digest = hashlib.sha256(body.encode()).hexdigest()
    end = {"messages": messages, "updates": updates, "sha256": digest}
    return f"{body}# end: {json.dumps(end)}\n"


def seal_jsonl(body: str, messages: int, updates: int) -> str:
    digest = hashlib.sha256(body.encode()).hexdigest()
    end = {"record": "end", "messages": messages, "updates": updates}
    return body + json.dumps({**end, "sha256": digest}) + "\n"


# ----------------------------------------------------------------------
# atomic writes


def write_and_fail(path, data, error):
    with atomic_write(path) as file:
        file.write(data)
        raise error


def test_atomic_write_replaces_the_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with atomic_write(path) as file:
        file.write(b"new")
        assert path.read_bytes() == b"old"  # not yet
    assert path.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError, ValueError])
def test_atomic_write_interrupted_leaves_the_old_file(tmp_path, error):
    path = tmp_path / "f.bin"
    path.write_bytes(b"the good one")
    with pytest.raises(error):
        write_and_fail(path, b"half of the new", error)
    assert path.read_bytes() == b"the good one"
    assert leftovers(tmp_path) == []


def test_atomic_write_interrupted_leaves_no_file(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        write_and_fail(tmp_path / "f", b"x", KeyboardInterrupt)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_gives_new_files_the_usual_permissions(tmp_path):
    umask = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "f") as file:
            file.write(b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o640


def test_atomic_write_into_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "no" / "f"):
        pass  # pragma: no cover


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_interrupted_trace_write_leaves_the_old_file(tmp_path, monkeypatch, fmt):
    path = tmp_path / f"trace.{fmt}"
    getattr(worked_example(), f"to_{fmt}")(path)
    before = path.read_bytes()
    calls = []

    def write(self, text):
        calls.append(text)
        if len(calls) == 5:  # midway: some rows are on disk already
            self.flush()
            raise KeyboardInterrupt
        return original(self, text)

    original = trace._SealedText.write
    monkeypatch.setattr(trace._SealedText, "write", write)
    bigger = worked_example(iterations=3)
    with pytest.raises(KeyboardInterrupt):
        getattr(bigger, f"to_{fmt}")(path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_failed_trace_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "trace.csv"
    worked_example().to_csv(path)
    before = path.read_bytes()
    name = "\udcff"  # a name UTF-8 cannot encode
    bad = Trace.from_rows([(0, 0, "forward", name, "b", 0, 1, 1)], [], [name, "b"])
    with pytest.raises(UnicodeEncodeError):
        bad.to_csv(path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def a_figure() -> Figure:
    figure = Figure(figsize=(2, 2))
    FigureCanvasAgg(figure)
    figure.add_subplot().plot([0, 1], [1, 0])
    return figure


def interrupt_while_saving(monkeypatch):
    """Make the PNG writer write a little, then be stopped by Ctrl-C."""

    def print_png(self, file, **kwargs):
        file.write(b"\x89PNG partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(FigureCanvasAgg, "print_png", print_png)


def test_interrupted_figure_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "figure.png"
    assert save_figure(a_figure(), path) == path
    before = path.read_bytes()
    assert before.startswith(b"\x89PNG\r\n")
    interrupt_while_saving(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        save_figure(a_figure(), path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_save_figure_adds_the_default_extension(tmp_path):
    written = save_figure(a_figure(), tmp_path / "figure")
    assert written == tmp_path / "figure.png"
    assert written.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png"]


def test_save_figure_refuses_an_unknown_format_before_writing(tmp_path):
    with pytest.raises(ValueError, match="'nope' is not supported"):
        save_figure(a_figure(), tmp_path / "figure.nope")
    assert list(tmp_path.iterdir()) == []


def test_save_figure_formats(tmp_path):
    save_figure(a_figure(), tmp_path / "f.SVG")
    assert (tmp_path / "f.SVG").read_text().lstrip().startswith("<?xml")
    save_figure(a_figure(), tmp_path / "f.pdf")
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")


def test_interrupted_scenario_figure_leaves_the_old_file(tmp_path, monkeypatch):
    run = Scenario("s", tmp_path, epochs=1, seed=0, quiet=True)
    path = run.save(a_figure(), "loss.png")
    before = path.read_bytes()
    interrupt_while_saving(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        run.save(a_figure(), "loss.png")
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_scenario_lists_the_path_it_wrote(tmp_path):
    run = Scenario("s", tmp_path, epochs=1, seed=0, quiet=True)
    assert run.save(a_figure(), "loss") == tmp_path / "loss.png"
    assert run.written == [tmp_path / "loss.png"]


def test_interrupted_animation_leaves_the_old_gif(tmp_path, monkeypatch):
    """Ctrl-C at frame 5 of 20: the old GIF stays, whole (issue 9, item 3)."""
    path = tmp_path / "animation.gif"
    trace = worked_example()
    plot.animate(trace, None, path, frames=6, fps=2, dpi=20)
    before = path.read_bytes()
    frames = []
    grab = mpl_animation._GifWriter.grab_frame

    def grab_frame(self, **kwargs):
        frames.append(1)
        if len(frames) == 5:
            raise KeyboardInterrupt
        grab(self, **kwargs)

    monkeypatch.setattr(mpl_animation._GifWriter, "grab_frame", grab_frame)
    with pytest.raises(KeyboardInterrupt):
        plot.animate(trace, None, path, frames=20, fps=2, dpi=20)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_animation_interrupted_while_writing(tmp_path, monkeypatch):
    from PIL import Image

    path = tmp_path / "animation.gif"
    trace = worked_example()
    plot.animate(trace, None, path, frames=4, fps=2, dpi=20)
    before = path.read_bytes()

    def save(self, file, **kwargs):
        file.write(b"GIF89a partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", save)
    with pytest.raises(KeyboardInterrupt):
        plot.animate(trace, None, path, frames=4, fps=2, dpi=20)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def _write_calls(tree: ast.AST) -> list[ast.Call]:
    """Calls that write a file: savefig, save, write_text/bytes, open(.., 'w')."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in {"savefig", "save", "write_text", "write_bytes"}:
            found.append(node)
        elif name in {"open", "fdopen"}:
            modes = [a for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value for k in node.keywords if k.arg == "mode"]
            if any(set(str(m.value)) & set("wax+") for m in modes):
                found.append(node)
    return found


def _inside_atomic_write(tree: ast.AST) -> set[int]:
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "id", "") == "atomic_write"
            for item in node.items
        ):
            inside |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return inside


def _is_checkpoint_save(call: ast.Call) -> bool:
    """``checkpoint.save(...)``: Network.save's writer, which uses atomic_write."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "checkpoint"
    )


def test_every_write_goes_through_atomic_write():
    """One way to write a file: no savefig, PIL save or open('w') elsewhere."""
    offenders = []
    for path in sorted((ROOT / "neurosim").glob("*.py")):
        if path.name == "_files.py":
            continue
        tree = ast.parse(path.read_text())
        safe = _inside_atomic_write(tree)
        offenders += [
            f"{path.name}:{call.lineno}"
            for call in _write_calls(tree)
            if id(call) not in safe and not _is_checkpoint_save(call)
        ]
    for path in sorted((ROOT / "scenarios").glob("*.py")):
        tree = ast.parse(path.read_text())
        offenders += [
            f"{path.name}:{call.lineno}"
            for call in _write_calls(tree)
            # run.save is Scenario.save, which writes through save_figure
            if not (isinstance(call.func, ast.Attribute) and call.func.attr == "save")
        ]
    assert offenders == []


# ----------------------------------------------------------------------
# the end line: a trace cut short or altered is refused


TRACES = {
    "worked_example": worked_example,
    "awkward": awkward_trace,
    "vectors": lambda: int_node_trace(batch=2),
    "faulty": faulty_trace,
}


def offsets(data: bytes) -> list[int]:
    """Every offset of a small file; of a larger one, every offset of its
    first and last 400 bytes and every 5th in between (the test stays fast)."""
    if len(data) <= 2000:
        return list(range(len(data)))
    inner = range(400, len(data) - 400, 5)
    return [*range(400), *inner, *range(len(data) - 400, len(data))]


@pytest.mark.parametrize("name", TRACES)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_cut_is_refused(tmp_path, name, fmt):
    """A file cut at any byte is a DataError, never a shorter trace."""
    original = TRACES[name]()
    good = tmp_path / f"good.{fmt}"
    getattr(original, f"to_{fmt}")(good)
    data = good.read_bytes()
    read = getattr(Trace, f"read_{fmt}")
    assert_same(read(good), original)
    cut = tmp_path / f"cut.{fmt}"
    accepted = []
    for n in offsets(data):
        cut.write_bytes(data[:n])
        try:
            read(cut)
        except DataError as error:
            if str(cut) not in str(error):
                accepted.append((n, str(error)))  # an error must name the file
        else:
            accepted.append(n)
    assert accepted == []


@pytest.mark.parametrize("name", TRACES)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_altered_byte_is_refused_or_harmless(tmp_path, name, fmt):
    """A byte changed anywhere: a DataError, or (in the end line's spacing)
    the very same trace; never an altered number."""
    original = TRACES[name]()
    good = tmp_path / f"good.{fmt}"
    getattr(original, f"to_{fmt}")(good)
    data = good.read_bytes()
    read = getattr(Trace, f"read_{fmt}")
    bad = tmp_path / f"bad.{fmt}"
    harmless = []
    for i in offsets(data):
        for flip in (0x01, 0x20):  # "0" -> "1" (an altered number), case
            altered = bytearray(data)
            altered[i] ^= flip
            bad.write_bytes(bytes(altered))
            try:
                again = read(bad)
            except DataError as error:
                if str(bad) not in str(error):
                    harmless.append((i, str(error)))  # must name the file
            else:
                assert_same(again, original)
                harmless.append(i)
    end = data.rindex(b"\n", 0, len(data) - 1) + 1
    assert all(isinstance(i, int) and i >= end for i in harmless)  # the end line


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_data_after_the_end_line(tmp_path, fmt):
    path = tmp_path / f"t.{fmt}"
    getattr(worked_example(), f"to_{fmt}")(path)
    data = path.read_bytes()
    path.write_bytes(data + data)  # two files, one after the other
    with pytest.raises(DataError, match=r"t\.(csv|jsonl)"):
        getattr(Trace, f"read_{fmt}")(path)


def test_end_line_counts_must_match(tmp_path):
    path = tmp_path / "t.csv"
    worked_example().to_csv(path)
    lines = path.read_text().splitlines(keepends=True)
    body = "".join(lines[:-1])
    path.write_text(seal_csv(body, 12, 11))
    with pytest.raises(DataError, match=r"t\.csv: the end line counts 11 updates"):
        Trace.read_csv(path)


def test_a_file_without_end_line(tmp_path):
    """Hand-made, or written before end lines: refused, or read with check=False."""
    path = tmp_path / "old.jsonl"
    worked_example().to_jsonl(path)
    lines = path.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    old = json.dumps({**header, "version": 1}) + "\n" + "".join(lines[1:-1])
    path.write_text(old)
    with pytest.raises(
        DataError, match=r"old\.jsonl, line 26: no end line.*check=False"
    ):
        Trace.read_jsonl(path)
    assert_same(Trace.read_jsonl(path, check=False), worked_example())


def test_check_false_ignores_the_end_line(tmp_path):
    path = tmp_path / "t.csv"
    worked_example().to_csv(path)
    text = path.read_text().replace("1.5", "2.5")  # edited by hand
    path.write_text(text)
    with pytest.raises(DataError, match="damaged or altered"):
        Trace.read_csv(path)
    edited = Trace.read_csv(path, check=False)
    assert edited.value[2] == 2.5


# ----------------------------------------------------------------------
# hostile traces: bounded, one DataError each


def csv_head() -> str:
    return '# nodes: ["a", "b"]\n' + ",".join(trace.CSV_COLUMNS) + "\n"


def csv_message(epoch="0", sample="0", sent="0.0", received="1.0", value="1.0"):
    return f"message,{epoch},{sample},forward,a,b,{sent},{received},{value},\n"


HOSTILE_CSV = {
    "inf time": (csv_message(sent="inf"), "'sent_at': a time must be finite"),
    "nan time": (csv_message(received="nan"), "'received_at': a time must be"),
    "huge time": (csv_message(received="1e300"), "within ±2\\*\\*53"),
    "huge sample": (csv_message(sample=str(10**20)), "'sample'.* out of range"),
    "4300 digits": (csv_message(epoch="9" * 5000), "'epoch'.* out of range"),
    "negative epoch": (csv_message(epoch="-1"), "'epoch': -1 is not from 0"),
    "nested value": (
        # 10,000 deep: within the csv module's field limit, past the recursion limit
        csv_message(value='"' + "[" * 10_000 + "]" * 10_000 + '"'),
        "nested deeper than 16",
    ),
}


@pytest.mark.parametrize("name", HOSTILE_CSV)
def test_hostile_csv(tmp_path, name):
    row, match = HOSTILE_CSV[name]
    path = tmp_path / "hostile.csv"
    path.write_text(seal_csv(csv_head() + row, 1, 0))
    with pytest.raises(DataError, match=f"hostile.csv, line 3: .*{match}"):
        Trace.read_csv(path)


def test_deeply_nested_node_list(tmp_path):
    path = tmp_path / "deep.csv"
    nodes = "[" * 100_000 + "]" * 100_000
    path.write_text(
        seal_csv(f"# nodes: {nodes}\n" + csv_head().split("\n")[1] + "\n", 0, 0)
    )
    with pytest.raises(DataError, match=r"deep\.csv, line 1: .*nested deeper than 16"):
        Trace.read_csv(path)


def test_brackets_inside_names_are_not_nesting(tmp_path):
    names = ["[" * 40, "{" * 40 + "]"]
    original = Trace.from_rows(
        [(0, 0, "forward", names[0], names[1], 0.0, 1.0, 1.0)], [], names
    )
    for fmt in ("csv", "jsonl"):
        getattr(original, f"to_{fmt}")(tmp_path / f"t.{fmt}")
        assert_same(getattr(Trace, f"read_{fmt}")(tmp_path / f"t.{fmt}"), original)


HOSTILE_JSONL = {
    "infinite time": ('"sent_at": Infinity', "'sent_at': a time must be finite"),
    "nan time": ('"received_at": NaN', "'received_at': a time must be finite"),
    "huge sample": (f'"sample": {10**20}', "'sample': 1000.* is not from 0"),
    "nested value": ('"value": ' + "[" * 100_000 + "]" * 100_000, "JSON nested deeper"),
}


@pytest.mark.parametrize("name", HOSTILE_JSONL)
def test_hostile_jsonl(tmp_path, name):
    field, match = HOSTILE_JSONL[name]
    fields = {
        "record": '"message"',
        "epoch": "0",
        "sample": "0",
        "kind": '"forward"',
        "source": '"a"',
        "destination": '"b"',
        "sent_at": "0.0",
        "received_at": "1.0",
        "value": "1.0",
    }
    key = field.split(":")[0].strip('"')
    fields[key] = field.split(": ", 1)[1]
    row = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}\n"
    header = '{"format": "neurosim-trace", "version": 2, "nodes": ["a", "b"]}\n'
    path = tmp_path / "hostile.jsonl"
    path.write_text(seal_jsonl(header + row, 1, 0))
    with pytest.raises(DataError, match=f"hostile.jsonl, line 2: {match}"):
        Trace.read_jsonl(path)


@pytest.mark.parametrize("read", [Trace.read_csv, Trace.read_jsonl])
def test_dev_zero_is_refused_without_reading_it_all(read):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(DataError, match="/dev/zero, line 1: longer than"):
        read("/dev/zero")


@pytest.mark.parametrize("check", [True, False])
def test_a_line_too_long(tmp_path, monkeypatch, check):
    monkeypatch.setattr(trace, "MAX_LINE_BYTES", 100)
    path = tmp_path / "long.csv"
    path.write_text(seal_csv(csv_head() + csv_message(value="1" * 200), 1, 0))
    with pytest.raises(DataError, match=r"long\.csv, line 3: longer than 100 bytes"):
        Trace.read_csv(path, check=check)


def test_from_rows_bounds_iterations_and_times():
    nodes = ["a", "b"]
    row = (0, 0, "forward", "a", "b", 0.0, 1.0, 1.0)
    for where, bad, match in [
        (1, 10**20, "sample must be an integer from 0"),
        (0, -3, "epoch must be from 0"),
        (5, float("inf"), "sent_at must be a finite time"),
        (6, float("nan"), "received_at must be a finite time"),
    ]:
        broken = (*row[:where], bad, *row[where + 1 :])
        with pytest.raises(DataError, match=match):
            Trace.from_rows([broken], [], nodes)
    with pytest.raises(DataError, match="update's time must be a finite time"):
        Trace.from_rows([], [(0, 0, "b", "a", 1.0, 2.0, np.nan)], nodes)


# ----------------------------------------------------------------------
# neurosim plot: one line for each, never a traceback


def one_line_error(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("neurosim: error: ")
    return lines[0]


@pytest.mark.parametrize("name", [*HOSTILE_CSV, "deep nodes", "dev zero", "cut"])
def test_plot_a_hostile_trace(tmp_path, capsys, name):
    path = tmp_path / "hostile.csv"
    if name == "dev zero":
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero")
        path = Path("/dev/zero")
    elif name == "deep nodes":
        nodes = "[" * 100_000 + "]" * 100_000
        path.write_text(seal_csv(f"# nodes: {nodes}\n" + csv_head()[13:], 0, 0))
    elif name == "cut":
        worked_example().to_csv(path)
        path.write_bytes(path.read_bytes()[:300])
    else:
        path.write_text(seal_csv(csv_head() + HOSTILE_CSV[name][0], 1, 0))
    out = tmp_path / "x.png"
    assert cli.main(["plot", str(path), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert str(path) in one_line_error(captured.err)
    assert "Traceback" not in captured.err
    assert not out.exists()


def test_plot_without_extension_says_what_it_wrote(tmp_path, capsys):
    path = tmp_path / "trace.csv"
    worked_example().to_csv(path)
    assert cli.main(["plot", str(path), "--out", str(tmp_path / "figure")]) == 0
    assert capsys.readouterr().out.strip() == f"Wrote {tmp_path / 'figure.png'}"
    assert (tmp_path / "figure.png").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "figure").exists()


def test_plot_no_check_reads_a_hand_made_trace(tmp_path, capsys):
    path = tmp_path / "hand.csv"
    path.write_text(",".join(trace.CSV_COLUMNS) + "\n" + csv_message())
    argv = ["plot", str(path), "--out", str(tmp_path / "x.png")]
    assert cli.main(argv) == 1
    assert "--no-check" in one_line_error(capsys.readouterr().err)
    assert cli.main([*argv, "--no-check", "--quiet"]) == 0
    assert (tmp_path / "x.png").stat().st_size > 0


def test_interrupted_plot_leaves_the_old_image(tmp_path, monkeypatch, capsys):
    path = tmp_path / "trace.csv"
    worked_example().to_csv(path)
    image = tmp_path / "x.png"
    assert cli.main(["plot", str(path), "--out", str(image), "--quiet"]) == 0
    before = image.read_bytes()
    interrupt_while_saving(monkeypatch)
    assert cli.main(["plot", str(path), "--out", str(image)]) == 130
    assert one_line_error(capsys.readouterr().err) == "neurosim: error: interrupted"
    assert image.read_bytes() == before
    assert leftovers(tmp_path) == []
