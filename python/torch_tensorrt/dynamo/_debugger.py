"""``torch_tensorrt.dynamo.Debugger``: a context manager that writes what a compilation did to a directory.

Inside ``with Debugger(logging_dir=...):`` every compilation writes

* ``torch_tensorrt.log`` -- the ``torch_tensorrt`` log at ``log_level`` (conversion of each node, engine builds);
* ``graphs/NN_after_<stage>.py`` -- the graph module after each stage (``exported``, ``lowered``, each graph pass by
  name, ``partitioned``, ``compiled``; see :mod:`._stages`), or only the stages named in ``capture_fx_graph_after``;
  ``capture_fx_graph_before`` writes ``NN_before_<stage>.py`` (the graph the stage received);
* ``engines/engine_K_layers.json`` (``save_layer_info=True``) -- per engine built: its layers in order (name, type,
  the FX node it came from, input and output tensors with dtype and shape).

``save_engine_profile``, ``profile_format`` and ``engine_builder_monitor`` are accepted; engine profiling needs a
GPU run and is not written here (a one-time warning says so when requested).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

import torch.fx

from torch_tensorrt import logging as torchtrt_logging
from torch_tensorrt._settings import warn_once
from torch_tensorrt.dynamo import _stages
from torch_tensorrt.dynamo.conversion import add_network_observer, remove_network_observer

DEFAULT_DIR = os.path.join(tempfile.gettempdir(), "torch_tensorrt", "debug")


def _tensor(t: Any) -> dict[str, Any]:
    return {"name": t.name, "dtype": str(t.dtype).split(".")[-1], "shape": list(t.shape)}


def layer_info(network: Any) -> list[dict[str, Any]]:
    """Each layer of a TensorRT network: name, type, FX node tag, input and output tensors."""
    layers = []
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        ins = [layer.get_input(k) for k in range(layer.num_inputs)]
        layers.append(
            {
                "name": layer.name,
                "type": str(layer.type).split(".")[-1],
                "node": getattr(layer, "metadata", ""),
                "inputs": [_tensor(t) for t in ins if t is not None],
                "outputs": [_tensor(layer.get_output(k)) for k in range(layer.num_outputs)],
            }
        )
    return layers


class Debugger:
    """See the module docstring. Re-entrant use is not supported (one directory per ``with``)."""

    def __init__(
        self,
        log_level: str = "debug",
        capture_fx_graph_before: Optional[Sequence[str]] = None,
        capture_fx_graph_after: Optional[Sequence[str]] = None,
        save_engine_profile: bool = False,
        profile_format: str = "perfetto",
        engine_builder_monitor: bool = True,
        logging_dir: str = DEFAULT_DIR,
        save_layer_info: bool = False,
    ) -> None:
        self.log_level = log_level
        self.before = set(capture_fx_graph_before or ())
        self.after = None if capture_fx_graph_after is None else set(capture_fx_graph_after)
        self.save_layer_info = save_layer_info
        self.logging_dir = Path(logging_dir)
        self.save_engine_profile = save_engine_profile
        self.profile_format = profile_format
        self.engine_builder_monitor = engine_builder_monitor
        self._count = 0
        self._engines = 0
        self._previous: Optional[str] = None
        self._handler: Optional[logging.Handler] = None
        self._level: Any = None

    # -- observers ------------------------------------------------------------------------------------------
    def _write_graph(self, prefix: str, stage: str, text: str) -> None:
        self._count += 1
        path = self.logging_dir / "graphs" / f"{self._count:02d}_{prefix}_{stage}.py"
        path.write_text(text)

    def _on_stage(self, stage: str, gm: torch.fx.GraphModule) -> None:
        if stage in self.before and self._previous is not None:
            self._write_graph("before", stage, self._previous)
        text = gm.print_readable(print_output=False)
        if self.after is None or stage in self.after:
            self._write_graph("after", stage, text)
        self._previous = text

    def _on_network(self, network: Any) -> None:
        if self.save_layer_info:
            path = self.logging_dir / "engines" / f"engine_{self._engines}_layers.json"
            path.write_text(json.dumps(layer_info(network), indent=1))
        self._engines += 1
        return None

    # -- context --------------------------------------------------------------------------------------------
    def __enter__(self) -> "Debugger":
        for sub in ("graphs", "engines"):
            (self.logging_dir / sub).mkdir(parents=True, exist_ok=True)
        if self.save_engine_profile:
            warn_once(
                "Debugger.save_engine_profile",
                "Debugger(save_engine_profile=True): engine profiles need a GPU run and are not written by this build",
            )
        self._handler = logging.FileHandler(self.logging_dir / "torch_tensorrt.log")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger(torchtrt_logging.LOGGER_NAME).addHandler(self._handler)
        self._level = torchtrt_logging.level(self.log_level)
        self._level.__enter__()
        _stages.add_stage_observer(self._on_stage)
        add_network_observer(self._on_network)
        return self

    def __exit__(self, *exc: Any) -> None:
        remove_network_observer(self._on_network)
        _stages.remove_stage_observer(self._on_stage)
        if self._level is not None:
            self._level.__exit__(*exc)
        if self._handler is not None:
            logging.getLogger(torchtrt_logging.LOGGER_NAME).removeHandler(self._handler)
            self._handler.close()


__all__ = ["Debugger", "layer_info", "DEFAULT_DIR"]
