import pytest
import torch

from torch_tensorrt._errors import UnsupportedOperatorError
from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.lowering import lower_exported_program
from torch_tensorrt.dynamo.partitioning import partition


class AddSinAdd(torch.nn.Module):
    def forward(self, x):
        y = (x + 1) * 2 - 3
        z = torch.special.bessel_j0(y)  # no converter: stays in PyTorch
        return (z + y) * 2 - 1


def _gm(model, x, settings):
    ep = lower_exported_program(torch.export.export(model, (x,)), settings)
    return ep.module()


def _acc_count(gm):
    return sum(1 for n, _ in gm.named_children() if n.startswith("_run_on_acc_"))


def test_partitions_around_unsupported_op():
    s = CompilationSettings(min_block_size=1)
    result = partition(_gm(AddSinAdd(), torch.randn(4), s), s)
    assert result.acc_names == ["_run_on_acc_0", "_run_on_acc_1"]
    modules = [n.target for n in result.gm.graph.nodes if n.op == "call_module" and n.target.startswith("_run_on")]
    assert modules == ["_run_on_acc_0", "_run_on_gpu_0", "_run_on_acc_1"]  # PyTorch ops in their own submodule
    assert not [n for n in result.gm.graph.nodes if n.op == "call_function"]
    torch_sub = result.gm.get_submodule("_run_on_gpu_0")
    assert [n.target for n in torch_sub.graph.nodes if n.op == "call_function"] == [
        torch.ops.aten.special_bessel_j0.default
    ]
    x = torch.randn(4)
    torch.testing.assert_close(result.gm(x), AddSinAdd()(x))
    reasons = {n.name: r for n, r in result.report.reasons.items()}
    assert reasons["special_bessel_j0"] == "no converter for aten.special_bessel_j0.default"


def test_min_block_size_drops_small_partitions():
    s = CompilationSettings(min_block_size=4)
    result = partition(_gm(AddSinAdd(), torch.randn(4), s), s)
    assert result.acc_names == []


def test_torch_executed_ops_splits_graph():
    s = CompilationSettings(min_block_size=1, torch_executed_ops={torch.ops.aten.mul.Tensor})

    class M(torch.nn.Module):
        def forward(self, x):
            return ((x + 1 - 2) * 3 + 4 - 5) * 6 + 7

    result = partition(_gm(M(), torch.randn(4), s), s)
    assert len(result.acc_names) == 3


def test_require_full_compilation_names_the_op():
    s = CompilationSettings(require_full_compilation=True)
    with pytest.raises(UnsupportedOperatorError, match=r"special_bessel_j0.*test_partitioner.py"):
        partition(_gm(AddSinAdd(), torch.randn(4), s), s)


def test_require_full_compilation_passes_when_possible():
    s = CompilationSettings(require_full_compilation=True)

    class M(torch.nn.Module):
        def forward(self, x):
            return x + 1

    result = partition(_gm(M(), torch.randn(4), s), s)
    assert result.acc_names == ["_run_on_acc_0"]


def test_weights_stay_engine_constants_not_inputs():
    """get_attr nodes sit outside partitions; their tensors must be inlined, not passed as engine inputs."""
    m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)).eval()
    s = CompilationSettings(min_block_size=1)
    result = partition(_gm(m, torch.randn(3, 4), s), s)
    (name,) = result.acc_names
    call = next(n for n in result.gm.graph.nodes if n.op == "call_module" and n.target == name)
    assert [a.op for a in call.args] == ["placeholder"]  # the model input only
    sub = result.gm.get_submodule(name)
    assert len([n for n in sub.graph.nodes if n.op == "placeholder"]) == 1
    assert sum(1 for n in sub.graph.nodes if n.op == "get_attr") == 4
    x = torch.randn(3, 4)
    torch.testing.assert_close(result.gm(x), m(x))


class _Interleaved(torch.nn.Module):
    def forward(self, x):
        a = x + 1
        u = torch.special.bessel_j0(a)  # no converter; between the partition's nodes, reads its result
        b = x * 2
        return a * b, u


def test_fusing_sorts_like_torchs_fusion():
    """A PyTorch node between a partition's nodes that reads one of its results must follow the fused call. The
    partitioner sorts the graph in place; the order is the one torch's own fusion (a new graph) gives."""
    from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner

    from torch_tensorrt.dynamo.partitioning._partitioner import TensorRTSupport, _Partitioner

    s = CompilationSettings(min_block_size=1)
    x = torch.randn(4)
    names = []
    for cls in (_Partitioner, CapabilityBasedPartitioner):
        gm = _gm(_Interleaved(), x, s)
        partitioner = cls(gm, TensorRTSupport(s), allows_single_node_partition=True)
        fused = partitioner.fuse_partitions(partitioner.propose_partitions())
        names.append([n.name for n in fused.graph.nodes])
        torch.testing.assert_close(fused(x), _Interleaved()(x))
    assert names[0] == names[1]
    assert names[0].index("fused_0") < names[0].index("special_bessel_j0")  # moved after the call


def test_partition_with_a_node_between_partition_nodes():
    s = CompilationSettings(min_block_size=1)
    x = torch.randn(4)
    result = partition(_gm(_Interleaved(), x, s), s)
    assert result.acc_names == ["_run_on_acc_0"]
    calls = [n.target for n in result.gm.graph.nodes if n.op == "call_module" and n.target.startswith("_run_on")]
    assert calls == ["_run_on_acc_0", "_run_on_gpu_0"]
    torch.testing.assert_close(result.gm(x), _Interleaved()(x))
