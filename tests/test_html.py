from __future__ import annotations

import math
import random
import re
import warnings
from html.parser import HTMLParser

import pytest
from test_leaderboard import depth_rec, rec, write_runs

from gnnbench import leaderboard
from gnnbench.cli import main


class Outline(HTMLParser):
    """Counts what matters on the page: tables and their body rows, inline SVGs, scripts, external references."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[int] = []
        self.svgs = 0
        self.in_body = False
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(0)
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.tables[-1] += 1
        elif tag == "svg":
            self.svgs += 1
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value and not value.startswith("#"):
                self.external.append(value)

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False


def records():
    out = [rec(m, d, s, 0.5 + i / 10, 0.6 + i / 10 + s / 100)
           for i, m in enumerate(("gcn", "gat", "mlp")) for d in ("Cora", "CiteSeer") for s in range(3)]
    out += [depth_rec("gcn", s, layers, 0.01, 0.7, 0.8 - layers / 100) for s in range(2) for layers in (2, 4, 8)]
    out.append(rec("gat", "Cora", 9, 0, 0, status="failed"))
    return out


def build(folder, lines):
    folder.mkdir()
    write_runs(folder / "runs.jsonl", lines)
    return leaderboard.build(folder, html=True)


def test_page_has_the_rows_the_figures_and_no_external_reference(tmp_path):
    result = build(tmp_path / "a", records())
    page = result.html.read_text()
    outline = Outline()
    outline.feed(page)
    n_rows = len(result.board)
    assert outline.tables[0] == n_rows == 6
    # bars + cost scatter for the one (task, scenario, metric), one depth figure (gcn sweeps num_layers on Cora)
    assert outline.svgs == 3
    assert outline.external == []
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//|@import|url\(\s*[\"']?https?:", page)
    assert "<h2>Ranks across datasets</h2>" in page and "<h2>Depth studies</h2>" in page
    assert "<h2>Failed runs (1)</h2>" in page and "RuntimeError: boom" in page
    assert page.count("<script>") == 1 and "aria-sort" in page  # the sorter, inline
    assert '<td class=num data-value="0.81">81.0 ± 1.0</td>' in page  # sort keys carry the raw value


def test_every_file_is_byte_identical_whatever_the_record_order(tmp_path):
    lines = records()
    outputs = []
    for order in range(2):
        shuffled = lines[:]
        random.Random(order).shuffle(shuffled)
        folder = build(tmp_path / str(order), shuffled).csv.parent
        outputs.append({name: (folder / name).read_bytes() for name in
                        ("leaderboard.csv", "grid.csv", "depth.csv", "leaderboard.md", "leaderboard.html")})
    assert outputs[0] == outputs[1]


def test_further_csv_tables_beside_the_leaderboard_are_shown(tmp_path):
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "kernels.csv").write_text("op,backend,ms\nspmm,csr,1.5\nspmm,scatter,2.5\n")
    write_runs(folder / "runs.jsonl", [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(2)])
    page = leaderboard.build(folder, html=True).html.read_text()
    assert "<h2>kernels</h2>" in page and "<td class=num>1.5</td>" in page


def test_an_unreadable_csv_beside_the_leaderboard_is_named_and_left_off_the_page(tmp_path, capsys):
    """An empty or binary file named *.csv used to crash the rebuild (and a suite's run, which rebuilds an
    existing page) after the runs, leaving the page stale."""
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "notes.csv").write_text("")
    (folder / "blob.csv").write_bytes(b"\xff\xfe\x00a")
    (folder / "kernels.csv").write_text("op,backend,ms\nspmm,csr,1.5\n")
    write_runs(folder / "runs.jsonl", [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(2)])
    assert main(["leaderboard", str(folder), "--html", "-q"]) == 0
    err = capsys.readouterr().err
    page = (folder / "leaderboard.html").read_text()
    for name in ("notes.csv", "blob.csv"):
        assert f"{folder / name}: not shown on the page, not a readable CSV" in err
        assert f"<li>{name}: not shown on the page" in page
    assert "<h2>kernels</h2>" in page and "<h2>notes</h2>" not in page


def test_cli_writes_the_page_only_when_asked(tmp_path, capsys):
    folder = tmp_path / "c"
    folder.mkdir()
    write_runs(folder / "runs.jsonl", [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(2)])
    assert main(["leaderboard", str(folder), "-q"]) == 0 and not (folder / "leaderboard.html").exists()
    assert main(["leaderboard", str(folder), "--html"]) == 0
    assert (folder / "leaderboard.html").read_text().startswith("<!DOCTYPE html>")
    assert str(folder / "leaderboard.html") in capsys.readouterr().out.replace("\n", "")
    (folder / "leaderboard.html").write_text("stale")
    assert main(["leaderboard", str(folder), "-q"]) == 0  # once there, the page is rebuilt with the rest
    assert (folder / "leaderboard.html").read_text().startswith("<!DOCTYPE html>")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Building the page must not touch the network."""
    monkeypatch.setattr("socket.socket.connect", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))


def test_a_mean_that_diverged_to_inf_is_labelled_not_drawn(tmp_path):
    """A regression metric can be inf on a seed (the record keeps it), so its row's mean is inf: matplotlib
    cannot place it, so the bar is left out and labelled, without a warning on the page's build."""
    lines = [rec(m, "Cora", s, 0.1, math.inf if (m, s) == ("gat", 1) else 0.2 + s / 100, metric="mae",
                 direction="min") for m in ("gcn", "gat") for s in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = build(tmp_path / "a", lines)
    assert result.board.set_index("model").loc["gat", "mean"] == math.inf
    assert ">inf</text>" in result.html.read_text()
