"""Record a TensorRT network as JSON, and rebuild a read-only view of it with the same API surface.

:func:`record_network` reads a built ``INetworkDefinition`` back through the TensorRT API only, generically:
for every layer its type, name, input tensor per slot (``None`` for an empty optional slot), outputs, and
every readable property of the layer's concrete class (read from the pybind class ``property`` objects, so a
new TensorRT attribute is recorded without code here). Values are tagged JSON:

* plain ``int``/``bool``/``str``/``None`` and finite ``float`` as they are; non-finite floats as ``{"float": "inf"}``;
* enums as ``{"enum": "ActivationType", "name": "RELU"}``;
* ``Dims`` as ``{"dims": [...]}``, ``Permutation`` as ``{"permutation": [...]}``, tuples/lists as JSON lists;
* ``Weights`` as ``{"weights": {"dtype": "FLOAT", "count": n, "data": base64}}``, numpy arrays (what some
  properties return, e.g. ``IConstantLayer.weights``) as ``{"ndarray": {"dtype", "shape", "data"}}``;
* an ``ITensor`` (e.g. ``IAttention.mask``) as ``{"tensor": name}``; a helper object a layer refers to (the
  ``IAttention`` behind ``IAttentionInputLayer.attention``) as ``{"object": class name, "properties": {...}}``,
  its properties recorded like a layer's (except :data:`_UNREAD` ones);
* anything else as ``{"unreadable": "<type name>"}`` (reading it from the view raises, naming the layer).

:class:`RecordedNetwork` rebuilds the recording into objects that answer what the reference evaluator asks
(``num_inputs``/``get_input``/``num_layers``/``get_layer``/``num_outputs``/``get_output``; layers with ``type``,
``name``, ``get_input``/``get_output`` and the recorded properties, decoded back to real ``trt`` enums, ``trt.Dims``
and ``trt.Weights``).
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
import re
from typing import Any, Optional

import numpy as np


FORMAT = "torch_tensorrt.recorded_network"
VERSION = 1

#: LayerType names whose class name does not follow ``I<CamelCase>Layer``.
_CLASS_OVERRIDES = {
    "PLUGIN": "ILayer",
    "CONDITIONAL_INPUT": "IIfConditionalInputLayer",
    "CONDITIONAL_OUTPUT": "IIfConditionalOutputLayer",
}
#: Properties of ILayer recorded as dedicated fields (not repeated under "properties").
_BASE_FIELDS = {"name", "type", "num_inputs", "num_outputs"}
#: Properties never read: reading them in the usual configuration makes TensorRT log an API usage error (unset
#: normalization_quantize_to_type; the failed read then also logs a CUDA error on a machine without a GPU).
_UNREAD = {"IAttention": {"normalization_quantize_to_type"}}


def layer_class_name(layer_type_name: str) -> str:
    """The ``trt`` class of layers of ``trt.LayerType.<layer_type_name>`` (e.g. MATRIX_MULTIPLY ->
    IMatrixMultiplyLayer), found by name so new layer types need no table entry."""
    return _concrete_class(layer_type_name).__name__


def _trt_module() -> Any:
    from torch_tensorrt import _trt

    return _trt.load()


_class_cache: dict[str, str] = {}


def _concrete_class(layer_type_name: str) -> Any:
    if layer_type_name not in _class_cache:
        mod = _trt_module()
        wanted = layer_type_name.replace("_", "").lower()
        found = _CLASS_OVERRIDES.get(layer_type_name)
        if found is None:
            found = next(
                (n for n in dir(mod) if n.startswith("I") and n.endswith("Layer") and n[1:-5].lower() == wanted),
                "ILayer",
            )
        _class_cache[layer_type_name] = found
    return getattr(_trt_module(), _class_cache[layer_type_name])


def _property_names(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, property) and not name.startswith("_") and name not in names:
                names.append(name)
    return names


def _encode(value: Any, nested: bool = True) -> Any:
    mod = _trt_module()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, mod.Dims):
        return {"dims": [int(d) for d in value]}
    if isinstance(value, mod.Permutation):
        return {"permutation": [int(d) for d in value]}
    if isinstance(value, mod.Weights):
        if value.size == 0:
            return {"weights": {"dtype": value.dtype.name, "count": 0, "data": ""}}
        data = np.ascontiguousarray(value.numpy()).tobytes()
        return {
            "weights": {"dtype": value.dtype.name, "count": int(value.size), "data": base64.b64encode(data).decode()}
        }
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        return {
            "ndarray": {
                "dtype": arr.dtype.str,
                "shape": list(arr.shape),
                "data": base64.b64encode(arr.tobytes()).decode(),
            }
        }
    enum_type = type(value)
    if hasattr(enum_type, "__members__") and hasattr(value, "name"):
        return {"enum": enum_type.__name__, "name": value.name}
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, mod.ITensor):
        return {"tensor": value.name}
    if nested and enum_type.__name__.startswith("I") and _property_names(enum_type):
        return {"object": enum_type.__name__, "properties": _encode_properties(value, enum_type, nested=False)}
    return {"unreadable": enum_type.__name__}


def _encode_properties(obj: Any, cls: type, nested: bool, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every readable property of ``obj`` seen as ``cls`` (``nested``: helper objects are recorded as well)."""
    props: dict[str, Any] = {}
    for prop in _property_names(cls):
        if prop in skip or prop in _UNREAD.get(cls.__name__, ()):
            continue
        try:
            props[prop] = _encode(getattr(obj, prop), nested)
        except Exception as exc:  # a property that is not readable in this configuration
            props[prop] = {"unreadable": f"{type(exc).__name__}: {exc}"}
    return props


def _tensor_entry(tensor: Any) -> dict[str, Any]:
    return {
        "dtype": tensor.dtype.name,
        "shape": [int(d) for d in tensor.shape],
        "is_shape_tensor": bool(tensor.is_shape_tensor),
        "is_execution_tensor": bool(tensor.is_execution_tensor),
    }


def record_network(network: Any) -> dict[str, Any]:
    """A JSON-able recording of ``network`` (see the module docstring). Layer objects are not modified."""
    tensors: dict[str, dict[str, Any]] = {}
    layers: list[dict[str, Any]] = []
    for i in range(network.num_inputs):
        t = network.get_input(i)
        tensors[t.name] = _tensor_entry(t)
    for index in range(network.num_layers):
        base = network.get_layer(index)
        type_name = base.type.name
        cls = _concrete_class(type_name)
        # A second handle on the same layer, cast to its concrete class (the caller's object stays as it is).
        layer = network.get_layer(index)
        layer.__class__ = cls
        # dedicated fields are not repeated -- except a concrete class's own ``type`` (ActivationType...)
        skip = frozenset(_BASE_FIELDS - ({"type"} if "type" in vars(cls) else set()))
        props = _encode_properties(layer, cls, nested=True, skip=skip)
        slots: list[Optional[str]] = []
        for slot in range(layer.num_inputs):
            t = layer.get_input(slot)
            slots.append(None if t is None else t.name)
        outs: list[str] = []
        for slot in range(layer.num_outputs):
            t = layer.get_output(slot)
            tensors[t.name] = _tensor_entry(t)
            outs.append(t.name)
        layers.append(
            {
                "type": type_name,
                "class": cls.__name__,
                "name": layer.name,
                "inputs": slots,
                "outputs": outs,
                "properties": props,
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": network.name,
        "inputs": [network.get_input(i).name for i in range(network.num_inputs)],
        "outputs": [network.get_output(i).name for i in range(network.num_outputs)],
        "tensors": tensors,
        "layers": layers,
    }


# --------------------------------------------------------------------------------------------------------------
# The view rebuilt from a recording
# --------------------------------------------------------------------------------------------------------------


class RecordingError(ValueError):
    """A recording that cannot be rebuilt (wrong format, unknown enum, dangling tensor name, ...)."""


#: The TensorRT enum types a recording may name (the types of layer attributes), looked up in this table and then
#: in the type's ``__members__`` -- never with ``getattr`` on the TensorRT module or an enum type, whose other
#: attributes (classes, functions, dunders) a file must not reach.
ENUM_TYPES = frozenset(
    """ActivationType AttentionIOForm AttentionNormalizationOp BoundingBoxFormat CausalMaskKind CollectiveOperation
    CumulativeOperation DataType DimensionOperation ElementWiseOperation FillOperation GatherMode InterpolationMode
    KVCacheMode LayerType LoopOutput MatrixOperation MoEActType PaddingMode PoolingType ReduceOperation
    ResizeCoordinateTransformation ResizeRoundMode ResizeSelector SampleMode ScaleMode ScatterMode TensorFormat
    TopKOperation TripLimit UnaryOperation""".split()
)
#: Bytes per element of ``trt.Weights`` by DataType name (a recorded count must match the recorded bytes).
_WEIGHT_BYTES = {"FLOAT": 4, "HALF": 2, "BF16": 2, "INT8": 1, "UINT8": 1, "INT32": 4, "INT64": 8, "BOOL": 1, "FP8": 1}
_NDARRAY_DTYPE = re.compile(r"[<>|=](?:f[248]|i[1248]|u[1248]|b1)")
_MEMBER_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def enum_member(type_name: Any, member: Any, where: str) -> Any:
    """``trt.<type_name>.<member>`` through :data:`ENUM_TYPES` and the type's ``__members__``."""
    mod = _trt_module()
    enum_type = getattr(mod, type_name, None) if isinstance(type_name, str) and type_name in ENUM_TYPES else None
    members = getattr(enum_type, "__members__", None) if enum_type is not None else None
    value = None
    if isinstance(members, dict):
        value = members.get(member) if isinstance(member, str) else None
    elif enum_type is not None and isinstance(member, str) and _MEMBER_NAME.fullmatch(member):
        value = getattr(enum_type, member, None)  # the names-only stand-in (testing._names_only_trt) has no table
    if value is None:
        raise RecordingError(f"{where}: unknown enum value {type_name!r}.{member!r}")
    return value


def _decode(value: Any, where: str, keep_alive: list[Any]) -> Any:
    try:
        return _decode_value(value, where, keep_alive)
    except RecordingError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, binascii.Error) as exc:
        raise RecordingError(f"{where}: malformed recorded value ({type(exc).__name__}: {exc})") from None


def _decode_value(value: Any, where: str, keep_alive: list[Any]) -> Any:
    mod = _trt_module()
    if isinstance(value, list):
        return tuple(_decode_value(v, where, keep_alive) for v in value)
    if not isinstance(value, dict):
        return value
    if "dims" in value:
        return mod.Dims([int(d) for d in value["dims"]])
    if "permutation" in value:
        return mod.Permutation([int(d) for d in value["permutation"]])
    if "float" in value:
        return float(str(value["float"]))
    if "tensor" in value:
        return RecordedTensorRef(value["tensor"])
    if "object" in value:
        return RecordedObject(
            value["object"],
            {k: _decode(v, f"{where}.{k}", keep_alive) for k, v in value["properties"].items() if not _unreadable(v)},
            where,
        )
    if "enum" in value:
        return enum_member(value["enum"], value.get("name"), where)
    if "ndarray" in value:
        a = value["ndarray"]
        if not isinstance(a.get("dtype"), str) or not _NDARRAY_DTYPE.fullmatch(a["dtype"]):
            raise RecordingError(f"{where}: array dtype {a.get('dtype')!r} is not a numeric dtype")
        data = base64.b64decode(a["data"], validate=True)
        return np.frombuffer(data, dtype=np.dtype(a["dtype"])).reshape([int(d) for d in a["shape"]]).copy()
    if "weights" in value:
        w = value["weights"]
        dtype = enum_member("DataType", w["dtype"], where)
        count = int(w["count"])
        if not count:
            return mod.Weights(dtype)
        buf = np.frombuffer(base64.b64decode(w["data"], validate=True), dtype=np.uint8).copy()
        if w["dtype"] not in _WEIGHT_BYTES or count * _WEIGHT_BYTES[w["dtype"]] != buf.size:
            raise RecordingError(
                f"{where}: weights of {count} x {w['dtype']} do not match their {buf.size} recorded bytes"
            )
        keep_alive.append(buf)
        return mod.Weights(dtype, buf.ctypes.data, count)
    raise RecordingError(f"{where}: value {value!r} was not readable when the network was recorded")


def _unreadable(value: Any) -> bool:
    return isinstance(value, dict) and "unreadable" in value


class RecordedTensorRef:
    """A tensor a recorded property refers to, by name (``IAttention.mask``...)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"RecordedTensorRef({self.name!r})"


class RecordedObject:
    """A helper object as recorded (the ``IAttention`` behind an attention layer): its readable properties."""

    def __init__(self, class_name: str, properties: dict[str, Any], where: str) -> None:
        self.__dict__.update(properties)
        self._class_name, self._where = class_name, where

    def __getattr__(self, attr: str) -> Any:
        raise AttributeError(f"{self._where}: the recorded {self._class_name} has no readable attribute {attr!r}")


class RecordedTensor:
    """An ``ITensor`` as recorded: ``name``, ``dtype``, ``shape`` and the tensor-kind flags."""

    def __init__(self, name: str, entry: dict[str, Any], network_inputs: set[str], network_outputs: set[str]) -> None:
        mod = _trt_module()
        self.name = name
        self.dtype = enum_member("DataType", entry["dtype"], f"tensor {name!r}")
        self.shape = mod.Dims([int(d) for d in entry["shape"]])
        self.is_shape_tensor = bool(entry.get("is_shape_tensor", False))
        self.is_execution_tensor = bool(entry.get("is_execution_tensor", True))
        self.is_network_input = name in network_inputs
        self.is_network_output = name in network_outputs

    def __repr__(self) -> str:
        return f"RecordedTensor({self.name!r}, {self.dtype}, {tuple(self.shape)})"


class RecordedLayer:
    """An ``ILayer`` as recorded. Recorded properties read like the real ones; anything else is an
    ``AttributeError`` that names the layer."""

    def __init__(self, entry: dict[str, Any], tensors: dict[str, RecordedTensor]) -> None:
        self.name: str = entry["name"]
        self._layer_type = enum_member("LayerType", entry["type"], f"layer {entry.get('name')!r}")
        self._concrete = False
        self._inputs = [None if n is None else tensors[n] for n in entry["inputs"]]
        self._outputs = [tensors[n] for n in entry["outputs"]]
        self._raw: dict[str, Any] = entry.get("properties", {})
        self._decoded: dict[str, Any] = {}
        self._keep_alive: list[Any] = []

    @property
    def type(self) -> Any:
        """``trt.LayerType`` -- or, on the concrete view, the concrete class's own ``type`` property where it has
        one (``IActivationLayer.type`` is an ``ActivationType``), as after a cast in the TensorRT API."""
        if self._concrete and "type" in self._raw:
            return self.__getattr__("type")
        return self._layer_type

    def __torchtrt_cast__(self) -> "RecordedLayer":
        """This layer seen as its concrete class (what ``layer.__class__ = trt.I...Layer`` does to a real one)."""
        view = copy.copy(self)
        view._concrete = True
        return view

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    def get_input(self, index: int) -> Optional[RecordedTensor]:
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def get_output(self, index: int) -> Optional[RecordedTensor]:
        return self._outputs[index] if 0 <= index < len(self._outputs) else None

    def get_output_type(self, index: int) -> Any:
        return self._outputs[index].dtype

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_") and attr != "type":
            raise AttributeError(attr)
        decoded = self.__dict__["_decoded"]
        if attr in decoded:
            return decoded[attr]
        raw = self.__dict__["_raw"]
        if attr not in raw:
            raise AttributeError(
                f"recorded layer {self.name!r} ({self._layer_type.name}) has no recorded attribute {attr!r}; "
                f"recorded: {sorted(raw)}"
            )
        value = _decode(raw[attr], f"layer {self.name!r} attribute {attr!r}", self._keep_alive)
        decoded[attr] = value
        return value

    def decode_all(self) -> None:
        """Decode every recorded attribute (except those recorded as unreadable, which raise when read)."""
        if not isinstance(self._raw, dict):
            raise RecordingError(f"recorded layer {self.name!r}: properties are not a JSON object")
        for attr, raw in self._raw.items():
            if not attr.startswith("_") and not (isinstance(raw, dict) and "unreadable" in raw):
                self.__getattr__(attr)

    def __repr__(self) -> str:
        return f"RecordedLayer({self.name!r}, {self._layer_type.name})"


class RecordedNetwork:
    """The network view the reference evaluator consumes, rebuilt from :func:`record_network`'s output."""

    def __init__(self, recording: dict[str, Any]) -> None:
        if not isinstance(recording, dict) or recording.get("format") != FORMAT:
            raise RecordingError("not a recorded network (missing or wrong 'format')")
        if not isinstance(recording.get("version", 0), int) or recording.get("version", 0) > VERSION:
            raise RecordingError(f"recorded network version {recording.get('version')} is newer than {VERSION}")
        self.name: str = str(recording.get("name", ""))
        try:
            ins, outs = set(recording["inputs"]), set(recording["outputs"])
            self._tensors = {n: RecordedTensor(n, e, ins, outs) for n, e in recording["tensors"].items()}
            self._inputs = [self._tensors[n] for n in recording["inputs"]]
            self._outputs = [self._tensors[n] for n in recording["outputs"]]
            self._layers = [RecordedLayer(e, self._tensors) for e in recording["layers"]]
        except KeyError as exc:
            raise RecordingError(f"recorded network {self.name!r} refers to unknown tensor {exc}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise RecordingError(f"recorded network {self.name!r} is malformed ({type(exc).__name__}: {exc})") from None
        for layer in self._layers:  # decode every attribute now: a bad recording fails at setup, naming the layer
            layer.decode_all()

    num_inputs = property(lambda self: len(self._inputs))
    num_outputs = property(lambda self: len(self._outputs))
    num_layers = property(lambda self: len(self._layers))

    def get_input(self, index: int) -> RecordedTensor:
        return self._inputs[index]

    def get_output(self, index: int) -> RecordedTensor:
        return self._outputs[index]

    def get_layer(self, index: int) -> RecordedLayer:
        return self._layers[index]

    def tensor(self, name: str) -> RecordedTensor:
        return self._tensors[name]

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, index: int) -> RecordedLayer:
        return self._layers[index]

    def __iter__(self) -> Any:
        return iter(self._layers)
