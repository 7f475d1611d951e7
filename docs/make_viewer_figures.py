"""Make the screenshots of docs/viewer.md: trace pages, opened in Chromium.

Run from the repository: ``python docs/make_viewer_figures.py``. It runs the
worked example, pipelining and faults scenarios and a 300-neuron network,
writes their pages (``Trace.to_html``), opens each in Debian's Chromium
(``/usr/bin/chromium``) through Playwright, and saves screenshots to
``docs/figures/viewer/``, with the worked example's page itself
(``worked_example.html``, to open from the docs).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "figures" / "viewer"
CHROMIUM = "/usr/bin/chromium"


def pages(folder: Path) -> dict[str, Path]:
    """The pages to show, written into `folder`."""
    import numpy as np

    import neurosim
    from neurosim import cli

    written = {}
    for name in ("worked_example", "pipelining", "faults"):
        status = cli.main(["run", name, "--out", str(folder / name), "--quiet"])
        if status:
            raise SystemExit(status)
        trace = neurosim.Trace.read_csv(folder / name / "trace.csv")
        where = OUT if name == "worked_example" else folder  # the docs link it
        written[name] = trace.to_html(where / f"{name}.html", title=name)
    net = neurosim.Network(neurosim.layered([64, 200, 36], seed=0))
    rng = np.random.default_rng(0)
    X, Z = rng.normal(size=(2, 64)), 0.1 * rng.normal(size=(2, 36))
    trace = net.train(X, Z, learning_rate=0.01, record=True).trace
    written["network_300"] = trace.to_html(
        folder / "network_300.html", title="a 64-200-36 network, two samples"
    )
    return written


def set_time(page, t: float) -> None:
    page.evaluate(
        """t => { const s = document.getElementById("time"); s.value = t;
                  s.dispatchEvent(new Event("input")); }""",
        t,
    )


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        written = pages(Path(tmp))
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"]
        )

        def open_(name: str):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(written[name].as_uri())
            page.wait_for_selector("body[data-ready=true]")
            return page

        def shot(page, name: str) -> None:
            page.evaluate("document.activeElement.blur()")
            page.screenshot(path=OUT / f"{name}.png", full_page=True)
            print(f"-- {(OUT / name).relative_to(DOCS.parent)}.png")

        page = open_("worked_example")
        shot(page, "worked_example_start")
        set_time(page, 2.5)
        shot(page, "worked_example_mid")
        page.keyboard.press("End")
        page.locator('.lane-label[data-node="2"]').click()  # h1
        shot(page, "worked_example_neuron")

        page = open_("pipelining")
        set_time(page, 5.2)
        page.locator('.lane-label[data-node="2"]').click()  # h1_1
        shot(page, "pipelining")

        page = open_("faults")  # the iterations of the scenario's figure
        page.select_option("#epoch", "3")
        for sample in (0, 1, 2, 5, 6, 7):
            page.locator(f'#samples button[data-sample="{sample}"]').click()
        page.keyboard.press("End")
        page.locator(".msg .lost").first.evaluate(
            "mark => mark.closest('.msg').dispatchEvent(new MouseEvent('click', "
            "{bubbles: true}))"
        )
        shot(page, "faults")

        page = open_("network_300")
        set_time(page, 4.5)
        shot(page, "network_300")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
