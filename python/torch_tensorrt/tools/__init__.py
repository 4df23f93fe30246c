"""Whole-program tools, on top of the compiler (``dynamo``), the reference evaluator and the runtime.

* :mod:`.run` -- ``torch_tensorrt.reference.run``: convert a program and evaluate its network in PyTorch.
* :mod:`.compare` -- ``torch_tensorrt.reference.compare``: per-FX-node error of the network against eager PyTorch.
* :mod:`.coverage` -- ``torch_tensorrt.dynamo.coverage`` and ``torchtrt report``: what converts, what does not, why
  (shown by :mod:`._coverage_terminal` and, as one self-contained page, :mod:`._coverage_html`).
* :mod:`.inspect_file` -- ``torchtrt inspect``: the engines in a saved file, read without running anything from it
  (records found and decoded by :mod:`._artifact_records`).

They may import any lower layer; no lower layer imports them, except the lazy re-exports that keep the documented
paths (``reference.run/compare/CompareReport``, ``dynamo.coverage``) working.
"""
