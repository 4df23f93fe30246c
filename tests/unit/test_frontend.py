"""The front end: one normalization of user inputs and models for every entry point (dynamo/_frontend.py)."""

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import Input
from torch_tensorrt.dynamo import _frontend
from torch_tensorrt.dynamo._graph import constant_tensor, get_attr_value
from torch_tensorrt.testing import simulate

DYN = dict(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(8, 3))


class AddMul(torch.nn.Module):
    def forward(self, x, y=None):
        return torch.relu(x) * 2 + (0 if y is None else y)


class VarArgs(torch.nn.Module):
    def forward(self, first, *rest):
        return first + sum(rest)


class KeywordOnly(torch.nn.Module):
    def forward(self, x, *, scale):
        return x * scale


def _dynamic_placeholders(ep):
    """Names of the user inputs of ``ep`` whose first dimension is symbolic."""
    users = set(ep.graph_signature.user_inputs)
    return [
        n.name
        for n in ep.graph.nodes
        if n.op == "placeholder"
        and n.name in users
        and n.meta["val"].dim() > 0
        and isinstance(n.meta["val"].shape[0], torch.SymInt)
    ]


# -- inputs ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [Input((2, 3)), torch.randn(2, 3)], ids=["Input", "tensor"])
def test_a_single_input_is_a_one_element_list(value):
    assert _frontend.positional_inputs(value, where="f") == [value]
    assert _frontend.user_inputs(inputs=value, where="f").args == [value]


def test_input_aliases_and_types_are_checked_with_the_entry_point_named():
    with pytest.raises(ValueError, match=r"^torch_tensorrt.save: pass either `arg_inputs` or `inputs`, not both"):
        _frontend.user_inputs([1], inputs=[2], where="torch_tensorrt.save")
    with pytest.raises(TypeError, match=r"^g: arg_inputs must be a list .* kwarg_inputs\), got a dict"):
        _frontend.user_inputs({"x": torch.randn(1)}, where="g")
    with pytest.raises(TypeError, match=r"^h: kwarg_inputs must be a dict"):
        _frontend.user_inputs([torch.randn(1)], [torch.randn(1)], where="h")
    spec = _frontend.user_inputs((torch.randn(1),), {"y": Input((1,))}, where="f")
    assert len(spec.args) == 1 and list(spec.kwargs) == ["y"] and len(spec.flat) == 2
    assert not _frontend.user_inputs(where="f")


def test_labels_follow_one_rule():
    spec = _frontend.UserInputs([Input((1,), name="image"), torch.randn(1), Input((1,))], {"mask": Input((1,))})
    assert spec.labels() == ["image", "arg1", "arg2", "mask"]


def test_example_tensors_and_export_examples():
    kept = torch.arange(6.0).reshape(2, 3)
    spec = _frontend.UserInputs([Input(**DYN), Input.from_tensor(kept), 7], {"y": Input((4,), dtype=torch.int32)})
    args, kwargs = spec.export_examples()
    assert args[0].shape == (2, 3) and args[1] is kept and args[2] == 7 and kwargs["y"].dtype == torch.int32
    tensors = spec.example_tensors()
    assert tensors[0].shape == (2, 3) and torch.equal(tensors[1], kept) and tensors[2] == 7


# -- dynamic shapes -------------------------------------------------------------------------------------------
def test_dynamic_shapes_positional_is_a_tuple_and_none_when_static():
    assert _frontend.dynamic_shapes(AddMul(), _frontend.UserInputs([Input((2, 3))])) is None
    shapes = _frontend.dynamic_shapes(AddMul(), _frontend.UserInputs([Input(**DYN), torch.randn(2, 3)]))
    assert isinstance(shapes, tuple) and list(shapes[0]) == [0] and shapes[1] is None


def test_dynamic_shapes_by_signature_for_keywords_and_var_args():
    shapes = _frontend.dynamic_shapes(AddMul(), _frontend.UserInputs([torch.randn(2, 3)], {"y": Input(**DYN)}))
    assert set(shapes) == {"x", "y"} and shapes["x"] is None and list(shapes["y"]) == [0]
    shapes = _frontend.dynamic_shapes(VarArgs(), _frontend.UserInputs([Input(**DYN), Input(**DYN), torch.randn(2, 3)]))
    assert set(shapes) == {"first", "rest"} and len(shapes["rest"]) == 2 and shapes["rest"][1] is None


@pytest.mark.parametrize(
    "model, args, kwargs, dynamic",
    [
        (AddMul(), [Input(**DYN)], {"y": Input(**DYN)}, ["x", "y"]),
        (VarArgs(), [Input(**DYN), Input(**DYN)], {}, ["first", "rest_0"]),
        (KeywordOnly(), [Input(**DYN)], {"scale": torch.tensor(2.0)}, ["x"]),
    ],
    ids=["keyword", "var_args", "keyword_only"],
)
def test_trace_makes_every_dynamic_input_dynamic(model, args, kwargs, dynamic):
    ep = torch_tensorrt.dynamo.trace(model, arg_inputs=args, kwarg_inputs=kwargs)
    assert _dynamic_placeholders(ep) == dynamic


def test_export_failure_names_the_dynamic_inputs():
    class Fixed(torch.nn.Module):
        def forward(self, x):
            return x.reshape(2, 3)  # specialises the batch

    with pytest.raises(Exception) as info:
        torch_tensorrt.dynamo.trace(Fixed(), Input(**DYN, name="batch_in"))
    note = "torch_tensorrt: exported with dynamic dimensions from the Inputs batch_in (1, 3)..(8, 3)"
    assert note in info.value.__notes__


# -- models ---------------------------------------------------------------------------------------------------
def test_modules_are_switched_to_eval_but_exported_modules_are_not_called():
    model = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.ReLU()).train()
    _frontend.to_exported_program(model, _frontend.UserInputs([torch.randn(2, 3)]), where="f")
    assert not model.training
    gm = torch.export.export(AddMul(), (torch.randn(2, 3),)).module()
    with pytest.raises(NotImplementedError):
        gm.eval()  # what torch_tensorrt must not call
    assert _frontend.set_eval_mode(gm) is gm


def test_model_errors_name_the_entry_point():
    expected = r"^torch_tensorrt.compile: expected an nn.Module or a torch.export.ExportedProgram, got str"
    with pytest.raises(TypeError, match=expected):
        torch_tensorrt.compile("model", arg_inputs=[torch.randn(1)])
    with pytest.raises(ValueError, match=r"^torch_tensorrt.compile: arg_inputs .* are required to export a AddMul"):
        torch_tensorrt.compile(AddMul())
    expected = r"^torch_tensorrt.dynamo.compile: expected a torch.export.ExportedProgram, got AddMul"
    with pytest.raises(TypeError, match=expected):
        torch_tensorrt.dynamo.compile(AddMul(), [torch.randn(1)])
    with pytest.raises(TypeError, match=r"^torch_tensorrt.reference.run: expected a torch.export.ExportedProgram"):
        torch_tensorrt.reference.run(AddMul(), [torch.randn(1)])


def test_compile_an_exported_programs_module_with_a_single_dynamic_input():
    ep = torch.export.export(AddMul(), (torch.randn(2, 3),), dynamic_shapes={"x": {0: torch.export.Dim.DYNAMIC}})
    with simulate():
        gm = torch_tensorrt.compile(ep.module(), inputs=Input(**DYN), min_block_size=1)
    x = torch.randn(5, 3)
    torch.testing.assert_close(gm(x), AddMul()(x))
    assert len(gm.compile_report.engines) == 1


def test_compile_with_dynamic_keyword_input():
    with simulate():
        gm = torch_tensorrt.compile(
            AddMul(), arg_inputs=Input(**DYN), kwarg_inputs={"y": Input(**DYN)}, min_block_size=1
        )
    x, y = torch.randn(6, 3), torch.randn(6, 3)
    torch.testing.assert_close(gm(x, y=y), AddMul()(x, y))


def test_save_exports_dynamic_keyword_inputs(tmp_path):
    path = tmp_path / "m.ep"
    torch_tensorrt.save(AddMul(), path, arg_inputs=Input(**DYN), kwarg_inputs={"y": Input(**DYN)})
    loaded = torch_tensorrt.load(path).module()
    x, y = torch.randn(7, 3), torch.randn(7, 3)
    torch.testing.assert_close(loaded(x, y=y), AddMul()(x, y))


def test_torch_compile_backend_exports_through_the_front_end():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()).eval()
    x = torch.randn(2, 3)
    with simulate():
        fast = torch.compile(model, backend="tensorrt", options={"min_block_size": 1}, dynamic=False)
        torch.testing.assert_close(fast(x), model(x))


# -- graph helpers --------------------------------------------------------------------------------------------
def test_get_attr_value_walks_dotted_paths():
    model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    assert get_attr_value(model, "0.0.weight") is model[0][0].weight
    assert get_attr_value(model, "0.missing.weight", None) is None
    with pytest.raises(AttributeError, match=r"'0.missing.weight' \(missing part 'missing'\)"):
        get_attr_value(model, "0.missing.weight")
    graph = torch.fx.Graph()
    weight_node = graph.get_attr("0.0.weight")
    placeholder = graph.placeholder("x")
    assert constant_tensor(model, weight_node) is model[0][0].weight
    assert constant_tensor(model, placeholder) is None and constant_tensor(model, 3.0) is None


# -- whole-program tools ---------------------------------------------------------------------------------------
def test_documented_tool_paths_are_lazy_re_exports_of_the_tools_package():
    from torch_tensorrt.tools import compare, coverage, run

    assert torch_tensorrt.reference.run is run.run
    assert torch_tensorrt.reference.compare is compare.compare
    assert torch_tensorrt.reference.CompareReport is compare.CompareReport
    assert torch_tensorrt.dynamo.coverage is coverage.coverage
    with pytest.raises(AttributeError, match="'torch_tensorrt.reference' has no attribute 'nope'"):
        torch_tensorrt.reference.nope
    with pytest.raises(AttributeError, match="'torch_tensorrt.dynamo' has no attribute 'nope'"):
        torch_tensorrt.dynamo.nope


def test_reference_run_takes_inputs_like_every_entry_point():
    ep = torch.export.export(AddMul(), (torch.randn(2, 3),), dynamic_shapes={"x": {0: torch.export.Dim.DYNAMIC}})
    x = torch.randn(4, 3)
    spec = Input(min_shape=(1, 3), opt_shape=(4, 3), max_shape=(8, 3), torch_tensor=x)
    torch.testing.assert_close(torch_tensorrt.reference.run(ep, spec), AddMul()(x))  # a single Input
