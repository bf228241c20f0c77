"""The HTML leaderboard as a browser shows it: headless Chromium renders the page, a screenshot is taken, and a
scripted click on a column header must reorder the table.

Needs a ``chromium`` binary (Debian: ``apt-get install chromium``; ``.ci/run`` installs it); skipped without one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_leaderboard import NATURAL, rec, write_runs

from gnnbench import leaderboard

pytestmark = pytest.mark.browser
BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)

# Appended to a copy of the page: measure what was laid out, then click the "test" header of the first table.
PROBE = """<script>
var table = document.querySelector("table.sortable");
var svgs = Array.from(document.querySelectorAll("figure svg"));
var before = Array.from(table.tBodies[0].rows).map(function (r) { return r.cells[3].getAttribute("data-value"); });
var header = Array.from(table.querySelectorAll("th")).find(function (th) { return th.textContent === "test"; });
header.click();
var after = Array.from(table.tBodies[0].rows).map(function (r) { return r.cells[3].getAttribute("data-value"); });
var out = document.createElement("pre");
out.id = "probe";
out.textContent = JSON.stringify({
  rows: table.tBodies[0].rows.length, tableHeight: table.getBoundingClientRect().height,
  svgs: svgs.map(function (s) { var b = s.getBoundingClientRect(); return [b.width, b.height]; }),
  svgShapes: svgs.map(function (s) { return s.querySelectorAll("path").length; }),
  before: before, after: after, sort: header.getAttribute("aria-sort")});
document.body.appendChild(out);
</script>"""


class Probe(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside, self.text = False, ""

    def handle_starttag(self, tag, attrs):
        self.inside = tag == "pre" and ("id", "probe") in attrs

    def handle_data(self, data):
        if self.inside:
            self.text += data


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1280,2400", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("page")
    records = [rec(m, d, s, 0.5, 0.6 + i / 10 + s / 100)
               for i, m in enumerate(("gcn", "mlp", "gat")) for d in ("Cora", "CiteSeer") for s in range(3)]
    write_runs(folder / "runs.jsonl", records)
    return leaderboard.build(folder, html=True).html


@pytest.mark.skipif(BROWSER is None, reason="no chromium binary (apt-get install chromium)")
def test_screenshot_shows_the_page(page, tmp_path):
    from PIL import Image

    shot = tmp_path / "page.png"
    result = chromium(f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    image = Image.open(shot).convert("L")
    assert image.size == (1280, 2400)
    inked = sum(count for value, count in enumerate(image.histogram()) if value < 200)
    assert inked > 0.01 * 1280 * 2400  # text, table rules and coloured bars: far from a blank page


def probed(page: Path, script: str, tmp_path: Path) -> Any:
    """What ``script``, run in ``page`` by headless Chromium, wrote as JSON into its ``#probe`` element."""
    copy = tmp_path / "probe.html"
    copy.write_text(page.read_text().replace("</body>", script + "\n</body>"))
    result = chromium("--dump-dom", copy.as_uri())
    parser = Probe()
    parser.feed(result.stdout)
    assert parser.text, result.stderr[-2000:]
    return json.loads(parser.text)


@pytest.mark.skipif(BROWSER is None, reason="no chromium binary (apt-get install chromium)")
def test_table_and_plots_render_and_a_header_click_sorts(page, tmp_path):
    seen = probed(page, PROBE, tmp_path)
    assert seen["rows"] == 6 and seen["tableHeight"] > 100
    assert len(seen["svgs"]) == 2 and all(w > 300 and h > 150 for w, h in seen["svgs"])
    assert all(shapes > 10 for shapes in seen["svgShapes"])  # bars, error bars, axes were drawn
    values = [float(v) for v in seen["after"]]
    assert seen["sort"] == "ascending" and values == sorted(values)
    assert seen["before"] != seen["after"]  # the leaderboard order was best first: the click reordered it


@pytest.mark.skipif(BROWSER is None, reason="no chromium binary (apt-get install chromium)")
def test_a_click_sorts_names_as_natural_key_does(tmp_path):
    """Sorting by dataset, rows reversed first, lists the names as the page does (natural_key): HeteroEdgeCount-2
    before -10, K=-2 before K=2, torch=2.9.1 before 2.10.0, capitals first, equal numbers by their text (2 before
    2.0, K=2 before K=2.0, which the reversal put after), letters and digits ASCII only (x10 before x٣, é-10 before
    é-2); and a second click flips it. That this is natural_key's order test_leaderboard checks, browser or not."""
    records = [rec("gcn", d, 0, 0.5, 0.9 - i / 100) for i, d in enumerate(NATURAL)]
    write_runs(tmp_path / "runs.jsonl", records)
    page = leaderboard.build(tmp_path, html=True).html
    probe = """<script>
var table = document.querySelector("table.sortable");
var header = Array.from(table.querySelectorAll("th")).find(function (th) { return th.textContent === "dataset"; });
var datasets = function () {
  return Array.from(table.tBodies[0].rows).map(function (r) { return r.cells[0].textContent; });
};
var shown = [datasets()];
var body = table.tBodies[0];
Array.from(body.rows).reverse().forEach(function (row) { body.appendChild(row); });
header.click();
shown.push(datasets());
header.click();
shown.push(datasets());
var out = document.createElement("pre");
out.id = "probe";
out.textContent = JSON.stringify(shown);
document.body.appendChild(out);
</script>"""
    assert probed(page, probe, tmp_path) == [NATURAL, NATURAL, NATURAL[::-1]]
