"""Coverage report: per-node decisions, projected engines, CLI and HTML output."""

import subprocess
import sys
from pathlib import Path

import torch

import torch_tensorrt
from torch_tensorrt.tools.coverage import write_html

ROOT = Path(__file__).resolve().parents[2]


class Split(torch.nn.Module):
    def forward(self, x):
        y = (x + 1) * 2
        return torch.special.bessel_j0(y) + y


def test_coverage_reports_reasons_sources_and_engines(tmp_path):
    report = torch_tensorrt.dynamo.coverage(Split(), [torch.randn(3)], min_block_size=1)
    rows = {r.node: r for r in report.nodes}
    assert rows["special_bessel_j0"].converts is False
    assert rows["special_bessel_j0"].reason == "no converter for aten.special_bessel_j0.default"
    assert rows["special_bessel_j0"].source.startswith("test_coverage.py:")
    assert rows["add"].partition == "_run_on_acc_0" and rows["add_1"].partition == "_run_on_acc_1"
    assert report.engines == {"_run_on_acc_0": 2, "_run_on_acc_1": 1}
    assert [r.node for r in report.left_in_pytorch] == ["special_bessel_j0"]
    page = tmp_path / "cov.html"
    write_html(report, str(page))
    text = page.read_text()
    assert "special_bessel_j0" in text and "<table" in text and "2 projected engine(s)" in text


def test_min_block_size_reason():
    report = torch_tensorrt.dynamo.coverage(Split(), [torch.randn(3)], min_block_size=3)
    assert all(r.partition == "" for r in report.nodes)
    assert "min_block_size=3" in next(r.reason for r in report.nodes if r.node == "add")


def test_report_cli_with_html(tmp_path):
    model_file = tmp_path / "m.py"
    model_file.write_text(
        "import torch\n"
        "class M(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        return torch.special.bessel_j0(x + 1)\n"
        "def make():\n"
        "    return M()\n"
    )
    page = tmp_path / "r.html"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch_tensorrt.cli",
            "report",
            f"{model_file}:make",
            "--input",
            "4x3",
            "--html",
            str(page),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "special_bessel_j0" in res.stdout and "operators have converters" in res.stdout
    assert page.exists()
