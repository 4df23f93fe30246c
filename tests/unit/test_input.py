import pytest
import torch

from torch_tensorrt import Input


def test_static_input():
    i = Input((2, 3))
    assert i.shape == (2, 3) and not i.is_dynamic and i.dynamic_dims() == []
    assert i.min_shape == i.opt_shape == i.max_shape == (2, 3)
    assert i.export_dims("x") is None
    assert i.example_tensor().shape == (2, 3)


def test_dynamic_input_and_dims():
    i = Input(min_shape=(1, 3), opt_shape=(4, 3), max_shape=(8, 3), dtype=torch.float16, name="x")
    assert i.is_dynamic and i.dynamic_dims() == [0]
    assert i.shape == {"min_shape": (1, 3), "opt_shape": (4, 3), "max_shape": (8, 3)}
    dims = i.export_dims()
    assert list(dims) == [0] and dims[0].min == 1 and dims[0].max == 8
    t = i.example_tensor("max_shape")
    assert t.shape == (8, 3) and t.dtype == torch.float16


def test_export_example_avoids_specialisation():
    i = Input(min_shape=(1, 3), opt_shape=(1, 3), max_shape=(8, 3))
    assert i.export_example().shape == (2, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(shape=(1,), min_shape=(1,)), "either"),
        (dict(min_shape=(1,), opt_shape=(2,)), "missing max_shape"),
        (dict(min_shape=(2,), opt_shape=(1,), max_shape=(3,)), "min <= opt <= max"),
        (dict(min_shape=(1,), opt_shape=(1, 1), max_shape=(1,)), "ranks"),
        (dict(shape=(-1, 2)), "negative"),
        (dict(shape="ab"), "sequence of ints"),
    ],
)
def test_input_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Input(**kwargs)


def test_from_tensor_keeps_dtype_and_value():
    t = torch.arange(6, dtype=torch.int32).reshape(2, 3)
    i = Input.from_tensor(t)
    assert i.shape == (2, 3) and i.dtype == torch.int32
    assert torch.equal(i.example_tensor(), t)
    with pytest.raises(TypeError):
        Input.from_tensor([1, 2])


def test_inputs_sharing_a_dynamic_dimension_export():
    import torch_tensorrt

    class Attend(torch.nn.Module):
        def forward(self, q, k):
            return torch.nn.functional.scaled_dot_product_attention(q, k, k)

    specs = [Input(min_shape=(1, 2, 4, 8), opt_shape=(2, 2, 4, 8), max_shape=(4, 2, 4, 8)) for _ in range(2)]
    ep = torch_tensorrt.dynamo.trace(Attend(), arg_inputs=specs)
    q, k = [n.meta["val"] for n in ep.graph.nodes if n.op == "placeholder"]
    assert q.shape[0] is not None and str(q.shape[0]) == str(k.shape[0])
