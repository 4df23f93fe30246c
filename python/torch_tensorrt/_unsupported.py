"""Names of the incumbent that this build keeps only to fail clearly: TensorRT plugins and custom kernels need a
plugin API the TensorRT-RTX path here does not offer. Any attribute of such a module raises
:class:`NotSupportedInThisBuild` naming the feature and why."""

from __future__ import annotations

import types
from typing import Any


class NotSupportedInThisBuild(NotImplementedError):
    """A feature of the incumbent Torch-TensorRT that this build does not have."""


class UnsupportedModule(types.ModuleType):
    """A module whose every public attribute access raises :class:`NotSupportedInThisBuild`."""

    def __init__(self, name: str, feature: str, why: str) -> None:
        super().__init__(name, f"{feature}: not supported in this build ({why}).")
        self._feature = feature
        self._why = why

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise NotSupportedInThisBuild(
            f"{self.__name__}.{attr}: {self._feature} is not supported in this build ({self._why})"
        )
