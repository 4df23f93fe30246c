"""Outputs that share memory with an input (``ICudaEngine.get_aliased_input_tensor``, TensorRT >= 10.15 and
TensorRT-RTX): e.g. the cache of an ``IKVCacheUpdateLayer``, which TensorRT writes in place. The Python engine reads
the pairs at setup (``TRTEngine.aliased_io``, output binding -> input binding; what the incumbent's engine modules
call ``aliased_io``) and binds such an output to its input's memory: the output returned *is* that input tensor.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch


class AliasedOutputs:
    """Mixed into :class:`~torch_tensorrt.runtime._engine.TRTEngine` (which sets these attributes)."""

    ERROR: type[Exception] = RuntimeError
    name: str
    input_names: list[str]
    output_names: list[str]
    requires_output_allocator: bool
    context: Any
    aliased_io: dict[str, str]
    _aliased: list[tuple[int, int]]
    _address: Any  # TRTEngine._address: a tensor's data pointer (a placeholder for empty tensors)

    def _read_aliases(self, engine: Any) -> None:
        query = getattr(engine, "get_aliased_input_tensor", None)  # TensorRT >= 10.15 / TensorRT-RTX
        names = {n: query(n) for n in self.output_names} if query is not None else {}
        self.aliased_io = {o: i for o, i in names.items() if i}
        self._aliased = [(self.output_names.index(o), self.input_names.index(i)) for o, i in self.aliased_io.items()]
        if self._aliased and self.requires_output_allocator:
            raise self.ERROR(
                f"engine {self.name!r}: outputs {sorted(self.aliased_io)} alias inputs, which an output allocator "
                "(data-dependent shapes) cannot honour"
            )

    def _alias_outputs(self, outputs: list[torch.Tensor], inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Aliased outputs are their inputs: TensorRT writes them in place (the input must be dense)."""
        outputs = list(outputs)
        for o, i in self._aliased:
            t = inputs[i]
            if not t.is_contiguous() or t.is_neg() or t.is_conj():
                raise self.ERROR(
                    f"engine {self.name!r}: output {self.output_names[o]!r} is written in place into input "
                    f"{self.input_names[i]!r}, which must then be a contiguous tensor"
                )
            if tuple(t.shape) != tuple(outputs[o].shape):
                raise self.ERROR(
                    f"engine {self.name!r}: output {self.output_names[o]!r} has shape {tuple(outputs[o].shape)} but "
                    f"aliases input {self.input_names[i]!r} of shape {tuple(t.shape)}"
                )
            outputs[o] = t
            self.context.set_tensor_address(self.output_names[o], self._address(t))
        return outputs
