"""``torch_tensorrt.dynamo.conversion.plugins`` (plugin generation and plugin converters): not supported in this
build; every name raises."""

from __future__ import annotations

import sys

from torch_tensorrt._unsupported import UnsupportedModule

sys.modules[__name__] = UnsupportedModule(
    __name__, "TensorRT plugins (dynamo.conversion.plugins)", "the TensorRT-RTX path here has no plugin API"
)
