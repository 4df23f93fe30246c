"""Compile a small model with torch_tensorrt and save what examples/cpp deploys (needs TensorRT and a GPU).

    python examples/cpp/save_model.py OUT_DIR [--model mlp]

Writes OUT_DIR/model.ts (TorchScript), OUT_DIR/model.pt2 (AOTInductor package), OUT_DIR/inputs.pt (the example
inputs, a list of tensors) and OUT_DIR/expected.pt (what PyTorch computes for them), and prints the command lines
that run the C++ program on them. The engines run on the C++ runtime: saving needs libtorchtrt_runtime.so
(`pip install .` with a TensorRT SDK), as does the C++ program that loads them.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--model", default="mlp", help="a factory of examples/models.py")
    args = parser.parse_args()

    import torch_tensorrt
    from examples import models

    if not torch_tensorrt.runtime.cpp_runtime_available():
        raise SystemExit(f"the C++ runtime is not available: {torch_tensorrt.runtime.cpp_runtime_reason()}")
    torch_tensorrt.runtime.set_runtime("cpp")
    model, example = getattr(models, args.model)()
    model, example = model.cuda(), [x.cuda() for x in example]
    trt_gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=example, min_block_size=1)
    os.makedirs(args.out_dir, exist_ok=True)
    path = lambda name: os.path.join(args.out_dir, name)  # noqa: E731
    torch_tensorrt.save(trt_gm, path("model.ts"), output_format="torchscript", arg_inputs=example)
    torch_tensorrt.save(trt_gm, path("model.pt2"), output_format="aot_inductor", arg_inputs=example)
    torch.save([x.cpu() for x in example], path("inputs.pt"))
    with torch.no_grad():
        torch.save([model(*example).cpu()], path("expected.pt"))
    for name in ("model.ts", "model.pt2"):
        print(f"build/example/torchtrt_example {path(name)} {path('inputs.pt')}")


if __name__ == "__main__":
    main()
