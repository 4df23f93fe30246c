"""Whole-program tools, on top of the compiler (``dynamo``), the reference evaluator and the runtime.

* :mod:`.run` -- ``torch_tensorrt.reference.run``: convert a program and evaluate its network in PyTorch.
* :mod:`.compare` -- ``torch_tensorrt.reference.compare``: per-FX-node error of the network against eager PyTorch.
* :mod:`.coverage` -- ``torch_tensorrt.dynamo.coverage`` and ``torchtrt report``: what converts, what does not, why.

They may import any lower layer; no lower layer imports them, except the lazy re-exports that keep the documented
paths (``reference.run/compare/CompareReport``, ``dynamo.coverage``) working.
"""
