"""The coverage page in a real browser (headless Chromium), and the terminal report's order.

The page is rendered by Debian's ``chromium`` (the test set-up, ``scripts/install_chromium.sh``, installs it where ``apt-get`` exists);
``--dump-dom`` gives the DOM after the page's script ran, parsed here with :mod:`html.parser`.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

import pytest
import torch
from rich.console import Console

import torch_tensorrt

ROOT = Path(__file__).resolve().parents[2]


def _which() -> Optional[str]:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser; installed by the test set-up (scripts/install_chromium.sh, run by scripts/test.sh) when
    missing -- run here too, so that the test does not depend on how pytest was started."""
    found = _which()
    if found is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "install_chromium.sh")], timeout=900, check=False)
        found = _which()
    if found is None:
        pytest.skip(
            "chromium is not installed and scripts/install_chromium.sh could not install it (needs apt-get "
            "as root or password-less sudo)"
        )
    return found


class TwoFallbacks(torch.nn.Module):
    """Three engines around two operators without converters (bessel_j0 has none)."""

    def forward(self, x):
        y = (x + 1) * 2
        z = torch.special.bessel_j0(y) + y  # first fallback
        return torch.special.bessel_j0(z.relu() - 1) * 3  # second fallback


BESSEL = "aten.special_bessel_j0.default"


@pytest.fixture(scope="module")
def report():
    dyn = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(4, 3), max_shape=(8, 3))
    return torch_tensorrt.dynamo.coverage(TwoFallbacks(), [dyn], min_block_size=1)


class Dom(HTMLParser):
    """Elements as (tag, attrs, text) with the text of each element's subtree."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, Optional[str]], list[str]]] = []
        self._open: list[int] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), []))
        if tag not in ("meta", "input", "br", "img", "link"):
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self.elements[self._open[i]][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for i in self._open:
            self.elements[i][2].append(data)

    def find(self, tag=None, **attrs):
        out = []
        for t, a, text in self.elements:
            if (tag is None or t == tag) and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append((t, a, "".join(text)))
        return out

    def with_class(self, cls):
        return [(t, a, "".join(x)) for t, a, x in self.elements if cls in (a.get("class") or "").split()]


def dump_dom(chromium: str, page: Path, tmp_path: Path, fragment: str = "") -> Dom:
    profile = tmp_path / "chromium-profile"
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.resolve().as_uri() + fragment,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    dom = Dom()
    dom.feed(out.stdout)
    return dom


def test_page_in_chromium_strip_reasons_cards_and_no_network(chromium, report, tmp_path):
    page = tmp_path / "coverage.html"
    report.to_html(str(page))
    dom = dump_dom(chromium, page, tmp_path)
    assert dom.find("body", data_ready="1"), "the page's script did not run to its end"
    # the strip: one segment per partition, in execution order, sized by operator count
    segs = dom.with_class("seg")
    assert [a["data-segment"] for _, a, _ in segs] == [s.name for s in report.segments]
    assert [a["data-kind"] for _, a, _ in segs] == ["tensorrt", "pytorch", "tensorrt", "pytorch", "tensorrt"]
    assert [int(a["data-ops"]) for _, a, _ in segs] == [len(s.nodes) for s in report.segments]
    assert all(f"flex-grow:{a['data-ops']}" in a["style"] for _, a, _ in segs)
    engine_colours = {a["style"].split("background:")[1] for _, a, _ in segs if a["data-kind"] == "tensorrt"}
    assert len(engine_colours) == 3  # one colour per engine
    # every segment links to rows of the per-node table
    row_ids = {a.get("id") for _, a, _ in dom.find("tr") if a.get("id")}
    assert {a["href"] for _, a, _ in segs} == {f"#seg-{s.name}" for s in report.segments}
    assert row_ids == {f"row-{s.name}" for s in report.segments}
    # the reasons: the unsupported op, its count, the converter's reason and both source lines
    ((_, _, reason),) = dom.find("div", data_op=BESSEL)
    assert "×2" in reason and f"no converter for {BESSEL}" in reason
    lines = [text for _, _, text in dom.with_class("source")]
    assert any("test_coverage_page.py:" in t and "z = torch.special.bessel_j0(y) + y" in t for t in lines), lines
    assert any("return torch.special.bessel_j0(z.relu() - 1) * 3" in t for t in lines), lines
    # one card per engine, with its bindings (dynamic ranges) and families
    cards = dom.with_class("card")
    assert [a["data-engine"] for _, a, _ in cards] == ["_run_on_acc_0", "_run_on_acc_1", "_run_on_acc_2"]
    assert all("1x3 .. 4x3 .. 8x3" in text and "elementwise" in text for _, _, text in cards)
    # the per-node table is collapsed, with every operator
    ((_, details, _),) = dom.find("details", id="nodes")
    assert "open" not in details
    node_rows = [a for t, a, _ in dom.elements if t == "tr" and "data-segment" in a]
    assert [a["data-op"] for a in node_rows] == [n.op for n in report.nodes]
    # nothing comes from the network: no external stylesheet, script, image or link
    assert not dom.find("link") and not [a for t, a, _ in dom.elements if t == "script" and a.get("src")]
    for tag, attrs, _ in dom.elements:
        for key in ("src", "href", "action", "data"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (tag, attrs)
    assert "url(" not in page.read_text()  # no CSS fetches either


def test_segment_link_opens_the_table_filtered_to_that_segment(chromium, report, tmp_path):
    page = tmp_path / "coverage.html"
    report.to_html(str(page))
    dom = dump_dom(chromium, page, tmp_path, "#seg-_run_on_acc_1")
    ((_, details, _),) = dom.find("details", id="nodes")
    assert "open" in details
    rows = [a for t, a, _ in dom.elements if t == "tr" and "data-segment" in a]
    visible = [a["data-segment"] for a in rows if "hidden" not in (a.get("class") or "")]
    assert visible == ["_run_on_acc_1"] * len(report.segments[2].nodes)
    ((_, _, shown),) = dom.find("span", id="shown")
    assert shown == f"{len(visible)} of {len(report.nodes)} shown"


def test_report_data_groups_reasons_and_describes_engines(report):
    (group,) = report.reason_groups()
    assert (group.op, group.count, group.reasons) == (BESSEL, 2, [f"no converter for {BESSEL}"])
    assert [s.where.split(":")[0] for s in group.sources] == ["test_coverage_page.py"] * 2
    card = report.cards["_run_on_acc_1"]
    assert card.ops == 3 and card.families == {"elementwise": 2, "activation": 1}
    assert [(t.dtype, t.min, t.opt, t.max) for t in card.inputs] == [("float32", "1x3", "4x3", "8x3")] * 2
    assert card.build is None


def test_terminal_report_order_and_all_flag(report):
    console = Console(record=True, width=160)
    report.print(console=console)
    text = console.export_text()
    order = [
        text.index(s) for s in ("operators have converters", "why operators run in PyTorch", "engine _run_on_acc_0")
    ]
    assert order == sorted(order)
    assert "every node" not in text and "aten.relu.default" not in text and "--all prints one row per operator" in text
    console = Console(record=True, width=160)
    report.print(show_all=True, console=console)
    text = console.export_text()
    assert "every node" in text and "aten.relu.default" in text  # the per-node table


def test_coverage_with_build_fills_the_engine_cards():
    report = torch_tensorrt.dynamo.coverage(TwoFallbacks(), [torch.randn(4, 3)], min_block_size=1, build=True)
    for card in report.cards.values():
        assert card.build is not None and card.build.layers > 0 and card.build.engine_bytes > 1000
        assert card.build.precision == "float32" and card.build.build_s > 0
    assert "built:" in __import__("torch_tensorrt.tools._coverage_html", fromlist=["render"]).render(report)


def test_report_cli_all_build_and_min_block_size(tmp_path, capsys):
    from torch_tensorrt import cli

    model_file = tmp_path / "fallbacks.py"
    model_file.write_text(
        "import torch\n"
        "class M(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        return torch.special.bessel_j0(x.relu() + 1) * 2\n"
        "def make():\n"
        "    return M(), (torch.randn(4, 3),)\n"
    )
    page = tmp_path / "r.html"
    assert (
        cli.main(["report", f"{model_file}:make", "--min-block-size", "1", "--build", "--all", "--html", str(page)])
        == 0
    )
    out = capsys.readouterr().out
    assert "2 projected engine(s)" in out and "every node" in out and "built " in out and f"wrote {page}" in out
    text = page.read_text()
    assert "<h1>Operator coverage: make</h1>" in text and text.count("class='card'") == 2 and "built: " in text
