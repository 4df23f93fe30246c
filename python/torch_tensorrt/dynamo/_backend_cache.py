"""In-process cache of compiled graphs: an identical graph is not rebuilt.

Two exported graphs are identical when they have the same aten code with the same node shapes and dtypes
(symbolic sizes as expressions), the same static input specs, the same settings and weights of equal content;
a stored engine serves a graph when, in addition, its profile ranges contain the ranges the graph needs. That
happens after ``torch._dynamo.reset()``, for a second compiled copy of a model, for recompiles triggered by
guards that do not change the program (a global flag; PyTorch's CPU convolution choosing a kernel by batch
size: the engine of the first graph was built wide enough for the next), and for repeated blocks between graph
breaks. The key is a digest; each weight's content digest is computed once per tensor version. Keys are kept in
LRU order, at most :data:`MAX_ENTRIES`; ``torch._dynamo.reset()`` clears them.
"""

from __future__ import annotations

import collections
import hashlib
import json
import threading
from typing import Any, Optional, Sequence

import torch
import torch.fx
from torch.utils.weak import WeakIdKeyDictionary

from torch_tensorrt.dynamo._backend_shapes import GraphPlan
from torch_tensorrt.dynamo._settings import CompilationSettings

MAX_ENTRIES = 64

_lock = threading.Lock()
#: key -> [(engine ranges, compiled graph)], least recently used key first
_entries: "collections.OrderedDict[str, list[tuple[Any, Any]]]" = collections.OrderedDict()
#: tensor (by identity) -> (version, data pointer, digest): weights are hashed once per version
_digests: WeakIdKeyDictionary = WeakIdKeyDictionary()


def tensor_digest(t: torch.Tensor) -> str:
    """Content digest of ``t`` (with dtype, shape and device type), memoized per tensor version."""
    stamp = (t._version, t.data_ptr())
    known = _digests.get(t)
    if known is not None and known[:2] == stamp:
        return known[2]
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{t.dtype}|{tuple(t.shape)}|{t.device.type}|".encode())
    try:
        flat = t.detach().reshape(-1).cpu().contiguous()
        if flat.numel():
            h.update(flat.view(torch.uint8).numpy().data)
        digest = h.hexdigest()
    except (RuntimeError, TypeError):  # tensors without plain storage: equal only to themselves
        return f"object:{id(t)}:{t._version}"
    try:
        _digests[t] = (*stamp, digest)
    except TypeError:  # tensors that take no weak references: just don't memoize
        pass
    return digest


#: settings that change neither the program nor what an engine computes (the engine range is matched separately)
_NOT_KEYED = ("debug", "dynamic_shape_max")


def program_key(
    ep: torch.export.ExportedProgram,
    plan: GraphPlan,
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    settings: CompilationSettings,
) -> str:
    """The cache key of an exported graph: its aten code and every node's shape/dtype (symbolic sizes as
    expressions), the static parts of its inputs, the settings and the content of its weights. Engine ranges are
    not part of it: :func:`lookup` matches them by containment."""
    h = hashlib.blake2b(digest_size=20)
    h.update(ep.graph_module.code.encode())
    metas = []
    for node in ep.graph.nodes:
        val = node.meta.get("val")
        if isinstance(val, torch.Tensor):
            metas.append(f"{node.name}:{val.dtype}:{tuple(val.shape)}")
        elif isinstance(val, (list, tuple)):
            metas.append(
                f"{node.name}:"
                + ",".join(f"{v.dtype}:{tuple(v.shape)}" if isinstance(v, torch.Tensor) else str(v) for v in val)
            )
        else:
            metas.append(f"{node.name}:{val}")
    h.update("|".join(metas).encode())
    args = [
        [str(a.dtype), a.device.type, a.dim()] if isinstance(a, torch.Tensor) else type(a).__name__
        for a in plan.export_args
    ]
    h.update(json.dumps(args).encode())
    keyed = {k: v for k, v in settings.to_json().items() if k not in _NOT_KEYED}
    h.update(json.dumps(keyed, sort_keys=True, default=str).encode())
    for i in plan.frozen:
        h.update(f"{i}:{tensor_digest(example_inputs[i])};".encode())
    for name, t in sorted(_graph_constants(gm).items()):
        h.update(f"{name}:{tensor_digest(t)};".encode())
    return h.hexdigest()


def _graph_constants(gm: torch.fx.GraphModule) -> dict[str, torch.Tensor]:
    """Tensors the graph reads with ``get_attr`` (constants dynamo attached to it)."""
    out = {}
    for node in gm.graph.nodes:
        if node.op == "get_attr":
            value: Any = gm
            for part in str(node.target).split("."):
                value = getattr(value, part, None)
            if isinstance(value, torch.Tensor):
                out[str(node.target)] = value
    return out


Ranges = dict[tuple[int, int], tuple[int, int]]


def _covers(built: Ranges, needed: Ranges) -> bool:
    return built.keys() == needed.keys() and all(
        built[k][0] <= needed[k][0] and needed[k][1] <= built[k][1] for k in needed
    )


def lookup(key: str, needed: Ranges) -> Optional[Any]:
    """A compiled graph stored under ``key`` whose engine ranges cover ``needed`` ((arg, dim) -> (min, max))."""
    with _lock:
        for built, compiled in _entries.get(key, ()):
            if _covers(built, needed):
                _entries.move_to_end(key)
                return compiled
        return None


def store(key: str, built: Ranges, compiled: Any) -> None:
    with _lock:
        _entries.setdefault(key, []).append((dict(built), compiled))
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def clear() -> None:
    """Forget every cached graph (``torch._dynamo.reset()`` calls this through the backend's ``reset``)."""
    with _lock:
        _entries.clear()


def size() -> int:
    with _lock:
        return len(_entries)
