"""The browser page of a trace (Trace.to_html, ``neurosim view``).

Fast tests read the page as text: the embedded JSON holds the trace
exactly, a node name cannot end the script, the page names nothing outside
itself, paths and command-line mistakes are refused. The browser tests open
the page in Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright)
with every request but the page itself refused, and check what a user sees:
no console error, the clock and the delivered count as the trace says, a
message's value, a neuron's weights and δ, the filters. They are skipped
when Playwright or Chromium is missing, except under ``CI`` (the gate must
run them: ``.ci/run`` installs both).
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim import cli, plot
from neurosim.plot import html as page_html
from neurosim.plot import model_page
from neurosim.trace import Trace

CHROMIUM = Path("/usr/bin/chromium")
X = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
Z = [[1.0], [1.0], [0.0], [0.0]]


# ----------------------------------------------------------------------
# traces to show


def worked_example() -> Trace:
    net = neurosim.Network(neurosim.examples.worked_example())
    return net.train([[1.0, 1.5]], [[2.5, 3.0]], learning_rate=0.1, record=True).trace


def small(**options) -> Trace:
    net = neurosim.Network(neurosim.layered([2, 3, 1], seed=1))
    return net.train(X, Z, learning_rate=0.1, record=True, **options).trace


def faulty() -> Trace:
    faults = neurosim.Faults(drop=0.15, duplicate=0.1, on_missing="zero", seed=3)
    return small(epochs=4, faults=faults)


def pipelined() -> Trace:
    return small(in_flight=3, interval=0.5)


def batched() -> Trace:
    return small(batch_size=2)


def empty() -> Trace:
    return Trace.from_rows([], [], ["x", "y"])


def predicted() -> Trace:
    net = neurosim.Network(neurosim.examples.worked_example())
    net.predict([[1.0, 1.5]], record=True)
    return net.last_trace


def direct_feedback() -> Trace:
    net = neurosim.Network(neurosim.layered([2, 3, 3, 1], seed=1))
    return net.train(X, Z, rule="direct_feedback_alignment", record=True).trace


def softmax_group() -> Trace:
    G = neurosim.layered([2, 3, 3], activation=["sigmoid", "softmax"], seed=1)
    net = neurosim.Network(G)
    return net.train(X[:2], np.eye(3)[:2], record=True).trace


# ----------------------------------------------------------------------
# reading a page back, in Python


def embedded(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    found = re.search(
        r'<script type="application/json" id="neurosim-trace">(.*?)</script>',
        text,
        re.S,
    )
    assert found, "no embedded trace"
    return json.loads(found.group(1))


def integers(column) -> np.ndarray:
    if isinstance(column, list):
        return np.array(column, dtype=np.int64)
    runs = np.array(column["runs"], dtype=np.int64).reshape(-1, 2)
    return np.cumsum(np.repeat(runs[:, 0], runs[:, 1]))


def floats(column):
    values = np.frombuffer(base64.b64decode(column["f8"]), dtype="<f8")
    if "codes" in column:
        values = values[integers(column["codes"])]
    if "lengths" in column:
        ends = np.cumsum(column["lengths"])
        return [
            values[end - n : end]
            for n, end in zip(column["lengths"], ends, strict=True)
        ]
    return values


def same_floats(a, b) -> bool:
    """Bit for bit (NaN equals NaN, -0.0 differs from 0.0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


def check_embedded(trace: Trace, data: dict) -> None:
    m, u = data["messages"], data["updates"]
    assert data["nodes"] == list(trace.nodes)
    assert [data["kinds"][k] for k in integers(m["kind"])] == trace.kind.tolist()
    assert [data["fates"][k] for k in integers(m["fate"])] == trace.fate.tolist()
    for name in ("epoch", "sample"):
        assert np.array_equal(integers(m[name]), getattr(trace, name))
        assert np.array_equal(integers(u[name]), getattr(trace.updates, name))
    assert np.array_equal(integers(m["source"]), trace.source_index)
    assert np.array_equal(integers(m["destination"]), trace.destination_index)
    assert np.array_equal(integers(u["neuron"]), trace.updates.neuron_index)
    assert np.array_equal(integers(u["source"]), trace.updates.source_index)
    for name in ("sent_at", "received_at"):
        assert same_floats(floats(m[name]), getattr(trace, name))
    for name in ("old", "new", "time"):
        assert same_floats(floats(u[name]), getattr(trace.updates, name))
    gradient = trace.updates.gradient
    if np.isnan(gradient).all():
        assert "gradient" not in u
    else:
        assert same_floats(floats(u["gradient"]), gradient)
    internals, table = trace.internals, data["internals"]
    if len(internals) == 0:
        assert table is None
    else:
        for name in ("epoch", "sample", "version"):
            assert np.array_equal(integers(table[name]), getattr(internals, name))
        assert np.array_equal(integers(table["neuron"]), internals.neuron_index)
        for name in ("e", "y", "fprime", "delta", "g", "forward_at", "backward_at"):
            column = getattr(internals, name)
            decoded = floats(table[name])
            if column.dtype == object:
                assert all(
                    same_floats(a, b) for a, b in zip(decoded, column, strict=True)
                )
            else:
                assert same_floats(decoded, column)
    values = floats(m["value"])
    if trace.value.dtype == object:
        assert len(values) == len(trace)
        assert all(same_floats(a, b) for a, b in zip(values, trace.value, strict=True))
    else:
        assert same_floats(values, trace.value)


# ----------------------------------------------------------------------
# the page as text


@pytest.mark.parametrize(
    "make",
    [
        worked_example,
        faulty,
        pipelined,
        batched,
        direct_feedback,
        softmax_group,
        empty,
        predicted,
    ],
)
def test_the_embedded_json_is_the_trace(tmp_path, make):
    trace = make()
    page = trace.to_html(tmp_path / "page.html")
    data = embedded(page)
    assert data["format"] == "neurosim-page"
    check_embedded(trace, data)


def test_a_page_reloaded_from_csv_is_the_same_page(tmp_path):
    trace = faulty()
    trace.to_csv(tmp_path / "trace.csv")
    again = Trace.read_csv(tmp_path / "trace.csv")
    first = trace.to_html(tmp_path / "a.html").read_bytes()
    assert again.to_html(tmp_path / "b.html").read_bytes() == first


def test_non_finite_and_signed_zero_values_survive(tmp_path):
    messages = [
        (0, 0, "forward", "x", "y", 0.0, 1.0, value)
        for value in (np.nan, np.inf, -np.inf, -0.0, 5e-324)
    ]
    trace = Trace.from_rows(messages, [], ["x", "y"])
    check_embedded(trace, embedded(trace.to_html(tmp_path / "page.html")))


def test_node_names_cannot_end_the_script(tmp_path):
    evil = ["</script><script>alert(1)</script>", "<!--", "a&b", "</SCRIPT"]
    trace = Trace.from_rows(
        [(0, 0, "forward", evil[0], evil[1], 0.0, 1.0, 1.0)],
        [(0, 0, evil[1], evil[0], 0.5, 0.25, 1.0)],
        evil,
    )
    page = trace.to_html(tmp_path / "page.html", title="</title><b>x</b>")
    text = page.read_text(encoding="utf-8")
    # Two script elements end: the data's and the code's; nothing else.
    assert len(re.findall(r"</script", text, re.I)) == 2
    assert "<!--" not in text
    assert "</title><b>" not in text
    assert embedded(page)["nodes"] == evil


def test_the_page_names_nothing_outside_itself(tmp_path):
    text = worked_example().to_html(tmp_path / "page.html").read_text("utf-8")
    text = text.replace("http://www.w3.org/2000/svg", "")  # SVG's namespace
    assert not re.search(r"https?:|//[a-z]|\burl\((?!#)|@import|\bsrc=|\bhref=", text)
    assert "default-src 'none'" in text  # and the browser refuses any request


def test_the_assets_do_not_end_their_elements_early():
    for name, closing in (("page.js", "</script"), ("page.css", "</style")):
        assert closing not in page_html._asset(name).lower(), name


def test_the_page_uses_the_colours_of_the_figures(tmp_path):
    data = embedded(worked_example().to_html(tmp_path / "page.html"))
    assert data["colors"] == plot.COLORS
    assert data["sample_colors"] == list(plot.SAMPLE_COLORS)


def test_the_page_names_layers_as_the_figures_do():
    """One function names them (plot.labels._layer_names)."""
    model = model_page.page_model(worked_example())
    assert [layer["name"] for layer in model["layers"]] == ["input", "hidden", "output"]


def test_the_worked_example_page_is_small(tmp_path):
    page = worked_example().to_html(tmp_path / "page.html")
    assert page.stat().st_size < 100_000


def test_bad_paths_are_refused_before_writing(tmp_path):
    trace = worked_example()
    with pytest.raises(FileNotFoundError, match="no such folder"):
        trace.to_html(tmp_path / "missing" / "page.html")
    with pytest.raises(IsADirectoryError, match="folder"):
        trace.to_html(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_node_names_must_be_ints_or_strs(tmp_path):
    trace = Trace.from_rows(
        [(0, 0, "forward", (1,), (2,), 0.0, 1.0, 1.0)], [], [(1,), (2,)]
    )
    with pytest.raises(neurosim.DataError, match="ints or strs"):
        trace.to_html(tmp_path / "page.html")
    assert list(tmp_path.iterdir()) == []


def test_the_page_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    page = tmp_path / "page.html"
    page.write_text("the old page")
    real = page_html.atomic_write

    class Interrupted(Exception):
        pass

    def interrupted(path):
        # The real atomic write, interrupted after the page was written.
        with real(path) as file:
            yield file
            raise Interrupted

    import contextlib

    monkeypatch.setattr(
        page_html, "atomic_write", contextlib.contextmanager(interrupted)
    )
    with pytest.raises(Interrupted):
        worked_example().to_html(page)
    assert page.read_text() == "the old page"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


# ----------------------------------------------------------------------
# the model: lanes, arrows, marks


def test_lanes_of_a_small_network_are_its_neurons():
    model = model_page.page_model(worked_example())
    assert [lane["label"] for lane in model["lanes"]] == [
        "i1",
        "i2",
        "h1",
        "h2",
        "o1",
        "o2",
    ]
    assert [layer["name"] for layer in model["layers"]] == ["input", "hidden", "output"]
    assert not model["aggregated"]
    assert model["order"] is None
    assert model["arrows"]["count"] == [1] * 12
    # The update marks: outputs at t = 2, hidden neurons at t = 3.
    assert sorted(zip(model["marks"]["time"], model["marks"]["lane"], strict=True)) == [
        (2.0, 4),
        (2.0, 5),
        (3.0, 2),
        (3.0, 3),
    ]


def test_a_big_network_gives_its_largest_layers_one_lane_each():
    net = neurosim.Network(neurosim.layered([70, 30, 5], seed=0))
    rng = np.random.default_rng(0)
    trace = net.train(rng.normal(size=(1, 70)), [[0.1] * 5], record=True).trace
    model = model_page.page_model(trace)
    labels = [lane["label"] for lane in model["lanes"]]
    assert labels[0] == "input (70)"
    assert len(labels) == 1 + 30 + 5
    lanes = model["lanes"]
    assert (lanes[0]["height"], lanes[1]["top"], lanes[-1]["top"]) == (3.0, 3.0, 37.0)
    assert model["aggregated"]
    # Every message is in exactly one arrow, with messages alike.
    order = np.array(model["order"])
    assert sorted(order.tolist()) == list(range(len(trace)))
    arrows = model["arrows"]
    assert sum(arrows["count"]) == len(trace) > len(arrows["count"])
    lane_of = np.array(model["lane_of"])
    for first, count, lane0, lane1 in zip(
        arrows["first"], arrows["count"], arrows["from"], arrows["to"], strict=True
    ):
        members = order[first : first + count]
        assert set(lane_of[trace.source_index[members]]) == {lane0}
        assert set(lane_of[trace.destination_index[members]]) == {lane1}
        for column in (trace.kind, trace.sent_at, trace.received_at, trace.sample):
            assert len(set(column[members].tolist())) == 1


def test_many_iterations_show_the_first_epoch_first():
    model = model_page.page_model(faulty())
    assert model["first"] == {"epoch": 0, "samples": None}
    assert model_page.page_model(worked_example())["first"] == {
        "epoch": None,
        "samples": None,
    }


def test_samples_in_flight_together_are_told_apart():
    assert model_page.page_model(pipelined())["overlap"]
    assert not model_page.page_model(small(epochs=2))["overlap"]


# ----------------------------------------------------------------------
# the command


def test_view_writes_the_page_next_to_the_trace(tmp_path, capsys):
    trace = faulty()
    trace.to_jsonl(tmp_path / "trace.jsonl")
    assert cli.main(["view", str(tmp_path / "trace.jsonl")]) == 0
    assert "trace.html" in capsys.readouterr().out
    check_embedded(trace, embedded(tmp_path / "trace.html"))
    assert (
        cli.main(
            [
                "view",
                str(tmp_path / "trace.jsonl"),
                "--out",
                str(tmp_path / "p.html"),
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == ""
    assert embedded(tmp_path / "p.html")["title"] == "neurosim: trace.jsonl"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.csv"], "cannot read trace missing.csv"),
        (["trace.csv", "--out", "nowhere/page.html"], "no such folder nowhere"),
        (["trace.csv", "--out", "."], "it is a folder"),
        (["trace.csv", "--out", "trace.csv"], "would overwrite the trace"),
        (["bad.csv"], "bad.csv"),
    ],
)
def test_view_errors(tmp_path, monkeypatch, capsys, arguments, message):
    monkeypatch.chdir(tmp_path)
    worked_example().to_csv("trace.csv")
    Path("bad.csv").write_text("not a trace\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli.main(["view", *arguments]) == 1
    error = capsys.readouterr().err
    assert error.startswith("neurosim: error: ")
    assert message in error
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ----------------------------------------------------------------------
# in a real browser


@pytest.fixture(scope="module")
def browser():
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright is not installed (pip install -e '.[test]')"
    if reason is None and not CHROMIUM.exists():
        reason = f"no {CHROMIUM} (apt-get install chromium)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: under CI the browser tests must run")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


class Opened:
    """A page open in the browser, with what it asked for and complained of."""

    def __init__(self, browser, path: Path):
        self.path = path
        self.url = path.resolve().as_uri()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 860})
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console",
            lambda message: (
                message.type == "error" and self.errors.append(message.text)
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("**/*", self._route)
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=10_000)

    def _route(self, route):
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def clock(self) -> tuple[float, int]:
        clock = self.page.locator("#clock")
        return float(clock.get_attribute("data-time")), int(
            clock.get_attribute("data-delivered")
        )

    def close(self) -> None:
        assert self.errors == []
        assert self.requests == [self.url]
        self.page.close()


@pytest.fixture
def open_page(browser, tmp_path):
    opened = []

    def open_(trace: Trace, name: str = "page.html") -> Opened:
        page = Opened(browser, trace.to_html(tmp_path / name))
        opened.append(page)
        return page

    yield open_
    for page in opened:
        page.close()


@pytest.mark.parametrize(
    "make",
    [worked_example, faulty, pipelined, batched, direct_feedback, empty, predicted],
)
def test_the_page_opens_without_errors_or_requests(open_page, make):
    page = open_page(make())
    page.page.keyboard.press("End")
    page.page.locator(".lane-label").last.click()
    assert page.errors == []
    assert page.requests == [page.url]


def expected_steps(trace: Trace) -> list[tuple[float, int]]:
    """Each event time and the messages delivered by then (lost ones never)."""
    times = np.unique(
        np.concatenate([trace.sent_at, trace.received_at, trace.updates.time])
    )
    arrived = trace.received_at[trace.fate != "dropped"]
    return [(float(t), int(np.count_nonzero(arrived <= t))) for t in times]


@pytest.mark.parametrize("make", [worked_example, faulty])
def test_the_arrow_keys_step_from_event_to_event(open_page, make):
    trace = make()
    first = model_page.page_model(trace)["first"]
    shown = trace.filter(epoch=first["epoch"], sample=first["samples"])
    steps = expected_steps(shown)
    page = open_page(trace)
    assert page.clock() == steps[0]
    for expected in steps[1:]:
        page.page.keyboard.press("ArrowRight")
        assert page.clock() == expected
    page.page.keyboard.press("ArrowRight")  # the end: it stays there
    assert page.clock() == steps[-1]
    for expected in reversed(steps[:-1]):
        page.page.keyboard.press("ArrowLeft")
        assert page.clock() == expected
    text = page.page.locator("#clock").inner_text()
    assert f"{steps[0][1]} of {len(shown)} delivered" in text


def test_the_worked_example_clock_in_words(open_page):
    page = open_page(worked_example())
    page.page.keyboard.press("ArrowRight")
    assert (
        page.page.locator("#clock")
        .inner_text()
        .startswith("t = 1 · 4 of 12 delivered (4 in flight)")
    )


def test_a_value_sent_to_several_receivers_is_written_once(open_page):
    """As in the figures: one label per fan (sender, time, value), not per arrow."""
    trace = worked_example()
    page = open_page(trace)
    page.page.keyboard.press("End")
    labels = page.page.eval_on_selector_all(
        "g.value text", "nodes => nodes.map((n) => n.textContent)"
    )
    fans = {
        (k, u, t, v)
        for k, u, t, v in zip(
            trace.kind, trace.source, trace.sent_at, trace.value, strict=True
        )
    }
    assert len(fans) == 8  # 1, 1.5, 4.5, 5.75 and the four errors
    assert len(labels) == len(set(labels)) == 8
    assert "1.5" in labels
    assert "\N{MINUS SIGN}35" in labels


def test_clicking_a_message_shows_its_value(open_page):
    trace = worked_example()
    page = open_page(trace)
    page.page.keyboard.press("End")
    k = int(np.flatnonzero((trace.source == "o2") & (trace.destination == "h1"))[0])
    page.page.locator(f'.msg[data-arrow="{k}"] .hit').click()
    panel = page.page.locator("#panel")
    assert panel.locator("h2").inner_text() == "backward message"
    value = panel.locator(".message-value span")
    assert float(value.get_attribute("data-exact")) == trace.value[k] == -35.0
    assert value.inner_text() == "\N{MINUS SIGN}35"
    assert "from\to2" in panel.inner_text()
    assert "to\th1" in panel.inner_text()
    # Hovering shows the same in a tooltip.
    page.page.locator(f'.msg[data-arrow="{k}"] .hit').hover()
    assert "\N{MINUS SIGN}35" in page.page.locator("#tooltip").inner_text()


def test_clicking_a_lost_message_says_so(open_page):
    trace = faulty()
    page = open_page(trace)
    page.page.keyboard.press("End")
    k = int(np.flatnonzero(trace.fate == "dropped")[0])
    page.page.locator(f'.msg[data-arrow="{k}"] .hit').dispatch_event("click")
    assert "lost on the way" in page.page.locator("#panel").inner_text()


def test_clicking_a_neuron_shows_its_weights_before_and_after(open_page):
    trace = worked_example()
    page = open_page(trace)
    page.page.keyboard.press("End")
    page.page.locator('.lane-label[data-node="2"]').click()  # h1
    panel = page.page.locator("#panel")
    assert panel.locator("h2").inner_text() == "neuron h1"
    h1 = trace.updates.neuron == "h1"
    cells = [
        float(span.get_attribute("data-exact"))
        for span in panel.locator("tr[data-at] td span[data-exact]").all()
    ]
    for old, new in zip(trace.updates.old[h1], trace.updates.new[h1], strict=True):
        assert old in cells
        assert new in cells
    # The errors it received: −6.93 from o1 and −35 from o2.
    into_h1 = trace.value[(trace.destination == "h1") & (trace.kind == "backward")]
    assert set(into_h1.tolist()) <= set(cells)


def test_the_neuron_list_reaches_a_neuron_of_an_aggregated_layer(open_page):
    net = neurosim.Network(neurosim.layered([70, 30, 5], seed=0))
    rng = np.random.default_rng(0)
    trace = net.train(rng.normal(size=(1, 70)), [[0.1] * 5], record=True).trace
    page = open_page(trace)
    assert page.page.locator(".lane-label").count() == 36
    page.page.select_option("#neuron", label=str(trace.nodes[3]))
    assert page.page.locator("#panel h2").inner_text() == f"neuron {trace.nodes[3]}"


def test_the_kind_filter_hides_those_messages(open_page):
    trace = worked_example()
    page = open_page(trace)
    assert page.page.locator(".msg").count() == len(trace)
    page.page.locator('input[data-kind="1"]').uncheck()  # backward
    assert page.page.locator(".msg").count() == np.count_nonzero(
        trace.kind == "forward"
    )
    page.page.locator('input[data-kind="update"]').uncheck()
    assert page.page.locator(".mark").count() == 0
    page.page.keyboard.press("End")
    assert page.clock()[1] == np.count_nonzero(trace.kind == "forward")


def test_the_sample_filter_hides_those_samples(open_page):
    trace = pipelined()
    page = open_page(trace)
    assert page.page.locator('input[name="colour"][value="sample"]').is_checked()
    page.page.locator('#samples button[data-sample="1"]').click()
    assert page.page.locator(".msg").count() == np.count_nonzero(trace.sample != 1)
    page.page.keyboard.press("End")
    assert page.clock()[1] == np.count_nonzero(trace.sample != 1)
    # Distinct colours for the samples shown, those of the figures.
    colours = {
        page.page.locator(f'.msg[data-arrow="{k}"] .shaft').get_attribute("stroke")
        for k in np.flatnonzero(trace.sample != 1)
    }
    assert colours == set(plot.SAMPLE_COLORS[:3])
    page.page.locator('#samples button[data-sample="all"]').click()
    assert page.page.locator(".msg").count() == len(trace)


def test_the_epoch_filter(open_page):
    trace = faulty()
    page = open_page(trace)
    assert page.page.locator(".msg").count() == np.count_nonzero(trace.epoch == 0)
    page.page.select_option("#epoch", "1")
    assert page.page.locator(".msg").count() == np.count_nonzero(trace.epoch == 1)
    page.page.select_option("#epoch", "")
    assert page.page.locator(".msg").count() == len(trace)


def test_a_mini_batch_message_shows_its_vector(open_page):
    trace = batched()
    page = open_page(trace)
    page.page.keyboard.press("End")
    page.page.locator('.msg[data-arrow="0"] .hit').click()
    exact = page.page.locator("#panel .message-value span").get_attribute("data-exact")
    assert json.loads(exact) == trace.value[0].tolist()


def delta_shown(page: Opened):
    exact = page.page.locator("#panel .internal-delta span").get_attribute("data-exact")
    return json.loads(exact)


def test_clicking_a_neuron_shows_the_delta_the_trace_holds(open_page):
    trace = worked_example()
    page = open_page(trace)
    page.page.locator('.lane-label[data-node="2"]').click()  # h1
    (row,) = np.flatnonzero(trace.internals.neuron == "h1")
    assert delta_shown(page) == trace.internals.delta[row] == -41.93
    for name in ("e", "y", "fprime", "g"):
        cell = page.page.locator(f"#panel .internal-{name} span")
        assert (
            float(cell.get_attribute("data-exact"))
            == getattr(trace.internals, name)[row]
        )


def test_an_update_mark_shows_that_samples_neuron(open_page):
    trace = pipelined()
    page = open_page(trace)
    page.page.keyboard.press("End")
    data = embedded(page.path)
    marks = data["model"]["marks"]
    iterations = data["model"]["iterations"]
    lanes = data["model"]["lanes"]
    # The mark of the second sample on the first hidden neuron.
    k = next(
        k
        for k, (lane, it) in enumerate(
            zip(marks["lane"], marks["iteration"], strict=True)
        )
        if lanes[lane]["label"] == "h1" and iterations[it][1] == 1
    )
    page.page.locator(f'.mark[data-mark="{k}"]').dispatch_event("click")
    assert "epoch 0, sample 1" in page.page.locator("#panel").inner_text()
    internals = trace.internals
    (row,) = np.flatnonzero((internals.neuron == "h1") & (internals.sample == 1))
    assert delta_shown(page) == internals.delta[row]
    version = page.page.locator("#panel").inner_text()
    assert f"weights version\t{internals.version[row]}" in version


def test_a_mini_batch_neuron_shows_one_delta_per_sample(open_page):
    trace = batched()
    page = open_page(trace)
    node = trace.internals.neuron_index[0]
    page.page.locator(f'.lane-label[data-node="{node}"]').click()
    assert delta_shown(page) == trace.internals.delta[0].tolist()


def test_many_samples_are_chosen_by_number(open_page):
    rng = np.random.default_rng(0)
    net = neurosim.Network(neurosim.layered([2, 2, 1], seed=0))
    trace = net.train(rng.normal(size=(45, 2)), rng.normal(size=(45, 1)), record=True)
    trace = trace.trace
    page = open_page(trace)
    first = model_page.page_model(trace)["first"]
    assert first == {"epoch": 0, "samples": list(range(12))}
    assert page.page.locator(".msg").count() == np.count_nonzero(trace.sample < 12)
    page.page.fill("#sample-list", "3-4, 40")
    page.page.press("#sample-list", "Enter")
    wanted = np.isin(trace.sample, [3, 4, 40])
    assert page.page.locator(".msg").count() == np.count_nonzero(wanted)


def test_lost_late_and_duplicate_messages_are_marked(open_page):
    trace = faulty()
    page = open_page(trace)
    shown = trace.filter(epoch=0)
    visible = page.page.locator(".msg .lost:not([display=none])")
    assert visible.count() == 0  # nothing has arrived yet
    page.page.keyboard.press("End")
    assert visible.count() == np.count_nonzero(shown.fate == "dropped") > 0
    late = page.page.locator(".msg .late:not([display=none])")
    assert late.count() == np.count_nonzero(shown.fate == "late")
    for k in np.flatnonzero(trace.fate == "duplicate"):
        if trace.epoch[k] == 0:
            shaft = page.page.locator(f'.msg[data-arrow="{k}"] .shaft')
            assert shaft.get_attribute("stroke-dasharray") == "1.5 2.5"
    legend = page.page.locator("#legend").inner_text()
    assert "lost (× where it would arrive)" in legend
    clock = page.page.locator("#clock").inner_text()
    assert f"{np.count_nonzero(shown.fate == 'dropped')} lost" in clock


def test_feedback_messages_are_drawn_and_filtered(open_page):
    trace = direct_feedback()
    page = open_page(trace)
    feedback = np.count_nonzero(trace.kind == "feedback")
    assert feedback > 0
    page.page.locator('input[data-kind="2"]').uncheck()
    assert page.page.locator(".msg").count() == len(trace) - feedback


def test_softmax_messages_are_drawn_filtered_and_shown_at_a_neuron(open_page):
    trace = softmax_group()
    page = open_page(trace)
    softmax = np.count_nonzero(trace.kind == "softmax")
    assert softmax == 6 * len(np.unique(trace.sample))
    o2 = trace.nodes.index("o2")
    page.page.locator(f'.lane-label[data-node="{o2}"]').click()
    panel = page.page.locator("#panel").inner_text()
    assert "softmax e in" in panel
    assert "softmax e out" in panel
    assert "y = softmax of the group’s e" in panel
    (row,) = np.flatnonzero(
        (trace.internals.neuron == "o2") & (trace.internals.sample == 0)
    )
    cell = page.page.locator("#panel .internal-y span")
    assert float(cell.get_attribute("data-exact")) == trace.internals.y[row]
    page.page.locator('input[data-kind="3"]').uncheck()
    assert page.page.locator(".msg").count() == len(trace) - softmax


def test_the_wheel_zooms_into_time_and_the_window_follows_the_clock(open_page):
    trace = faulty()
    page = open_page(trace)

    def window() -> tuple[float, float]:
        start, stop = (
            page.page.locator("#timeline").get_attribute("data-window").split()
        )
        return float(start), float(stop)

    full = window()
    box = page.page.locator("#timeline").bounding_box()
    page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):
        page.page.mouse.wheel(0, -100)
    start, stop = window()
    assert full[0] <= start < stop <= full[1]
    assert stop - start < 0.5 * (full[1] - full[0])
    assert page.page.locator("#zoom-note").is_visible()
    # Stepping past the window's end moves the window with the clock.
    page.page.keyboard.press("End")
    t, _ = page.clock()
    start, stop = window()
    assert start <= t <= stop
    assert stop - start < 0.5 * (full[1] - full[0])
    page.page.locator("#timeline").dblclick(position={"x": 5, "y": 5})
    assert window() == full


def delivered_by(trace: Trace, t: float) -> int:
    return int(np.count_nonzero((trace.received_at <= t) & (trace.fate != "dropped")))


def test_play_moves_the_clock_and_pause_stops_it(open_page):
    trace = pipelined()
    page = open_page(trace)
    page.page.locator("#play").click()
    assert page.page.locator("#play").inner_text() == "❚❚ Pause"
    # Wait, frame by frame, until the clock has passed 1.5 (the page's
    # policy forbids wait_for_function's eval).
    page.page.evaluate(
        """() => new Promise((resolve) => {
             const clock = document.getElementById("clock");
             const check = () => Number(clock.dataset.time) > 1.5
               ? resolve() : requestAnimationFrame(check);
             check();
           })"""
    )
    page.page.keyboard.press(" ")  # pause
    assert page.page.locator("#play").inner_text() == "▶ Play"
    t, delivered = page.clock()
    assert t > 1.5
    assert delivered == delivered_by(trace, t)
    # Paused: the clock stays where it is.
    page.page.evaluate("new Promise(requestAnimationFrame)")
    assert page.clock() == (t, delivered)


def test_the_slider_sets_the_time(open_page):
    trace = faulty()
    page = open_page(trace)
    page.page.evaluate(
        """() => { const s = document.getElementById("time"); s.value = 17.25;
                   s.dispatchEvent(new Event("input")); }"""
    )
    assert page.clock() == (17.25, delivered_by(trace.filter(epoch=0), 17.25))
