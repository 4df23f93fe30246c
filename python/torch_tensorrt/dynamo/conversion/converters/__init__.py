"""Converters, one module per op family; every module here is imported when the registry is first used.

A family module imports the shared helpers beside this package (``_tensors``, ``_args``, ``_arith``,
``_reduce``), never another family, and every op is registered in one family only
(``tests/unit/test_converter_layout.py``)."""
