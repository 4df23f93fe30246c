"""reference.compare runs on every zoo model (it re-runs the lowered graph eagerly, node by node) and finds the
network's outputs within the zoo tolerance of eager."""

from __future__ import annotations

import pytest

from examples.zoo import BY_NAME, ZOO

pytestmark = pytest.mark.zoo


@pytest.mark.parametrize("name", [m.name for m in ZOO])
def test_compare_runs_on_zoo_model(name: str) -> None:
    import torch_tensorrt

    entry = BY_NAME[name]
    pytest.importorskip(entry.requires)
    model, inputs = entry.build()
    report = torch_tensorrt.reference.compare(model, list(inputs), print_table=False)
    assert len(report.rows) > 10
    assert report.rows[-1].rel_norm <= 1e-3, str(report)  # the last node converted: the model's output
