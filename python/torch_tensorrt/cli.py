"""``torchtrt``: the command line.

``torchtrt compile FILE.py:FACTORY --input 1x3x224x224 [--input-range MIN:OPT:MAX] [--precision fp16] -o OUT.engine``
compiles the model a factory returns into one TensorRT engine file and prints what was built.
``FACTORY`` returns a model, or ``(model, example_inputs)``; ``--input`` (one per model input, in order) may be
omitted when the factory gives examples. ``--input-range`` gives the i-th input a dynamic range.

``torchtrt report FILE.py:FACTORY --input ... [--html PAGE] [--all] [--build]`` prints the coverage report
(:mod:`torch_tensorrt.tools.coverage`); ``torchtrt inspect FILE [--json]`` shows what a saved program or engine
holds (:mod:`torch_tensorrt.tools.inspect_file`).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from torch_tensorrt._errors import TorchTensorRTError
from torch_tensorrt._io import atomic_write_bytes

USAGE_EXIT = 2


class UsageError(Exception):
    """A bad command-line argument (printed as a usage error, exit code 2)."""


def parse_shape(text: str, what: str = "shape") -> tuple[int, ...]:
    """``"1x3x224x224"`` -> ``(1, 3, 224, 224)``."""
    try:
        dims = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a shape like 1x3x224x224") from None
    if not dims or any(d < 0 for d in dims):
        raise UsageError(f"{what} {text!r} is not a shape like 1x3x224x224")
    return dims


def parse_range(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    parts = text.split(":")
    if len(parts) != 3:
        raise UsageError(f"--input-range {text!r} must be MIN:OPT:MAX, e.g. 1x3x224x224:8x3x224x224:32x3x224x224")
    mn, opt, mx = (parse_shape(p, "--input-range shape") for p in parts)
    if not len(mn) == len(opt) == len(mx) or any(not a <= b <= c for a, b, c in zip(mn, opt, mx)):
        raise UsageError(f"--input-range {text!r}: shapes need the same rank and MIN <= OPT <= MAX per dimension")
    return mn, opt, mx


def load_factory(spec: str) -> Any:
    """``path/to/file.py:name`` -> the callable ``name`` defined in that file."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"{spec!r} must be FILE.py:FACTORY")
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"model file {path!r} does not exist")
    module_spec = importlib.util.spec_from_file_location(f"_torchtrt_user_{file.stem}", file)
    if module_spec is None or module_spec.loader is None:
        raise UsageError(f"cannot import {path!r}")
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(file.parent.resolve()))
    try:
        module_spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise UsageError(f"{path!r} has no callable {name!r}")
    return factory


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="torchtrt", description="Compile PyTorch models to TensorRT engines.")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compile", help="compile a model into one TensorRT engine file")
    c.add_argument("model", help="FILE.py:FACTORY; the factory returns a model or (model, example_inputs)")
    c.add_argument(
        "--input", action="append", default=[], help="static input shape, e.g. 1x3x224x224 (repeat per input)"
    )
    c.add_argument("--input-range", action="append", default=[], help="MIN:OPT:MAX shapes of the i-th input (dynamic)")
    c.add_argument("--dtype", default="float32", help="input dtype (default float32)")
    c.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"], help="compute precision")
    c.add_argument("--optimization-level", type=int, default=None, help="builder optimization level 0-5")
    c.add_argument("-o", "--output", required=True, help="engine file to write")
    r = sub.add_parser("report", help="coverage report: which nodes convert, why not, projected engines")
    r.add_argument("model", help="FILE.py:FACTORY")
    r.add_argument("--input", action="append", default=[])
    r.add_argument("--input-range", action="append", default=[])
    r.add_argument("--dtype", default="float32")
    r.add_argument("--html", default=None, help="also write the report as a self-contained HTML page")
    r.add_argument("--all", action="store_true", help="also print one row per operator")
    r.add_argument("--build", action="store_true", help="also build the engines (layers, size, build time per engine)")
    r.add_argument("--min-block-size", type=int, default=None, help="minimum operators per engine (default 5)")
    i = sub.add_parser("inspect", help="show what a saved program or engine file holds (never runs code from it)")
    i.add_argument("file", help=".ep / .pt2 / TorchScript / torch.save file, or a raw .engine plan")
    i.add_argument("--json", action="store_true", help="print JSON for machines")
    return parser


def build_inputs(args: argparse.Namespace, examples: Optional[Sequence[Any]]) -> list[Any]:
    import torch

    from torch_tensorrt import Input

    dtype = getattr(torch, args.dtype, None)
    if not isinstance(dtype, torch.dtype):
        raise UsageError(f"--dtype {args.dtype!r} is not a torch dtype")
    shapes = [parse_shape(s, "--input") for s in args.input]
    ranges = [parse_range(r) for r in args.input_range]
    if shapes:
        inputs: list[Any] = [Input(shape=s, dtype=dtype) for s in shapes]
    elif examples is not None:
        inputs = list(examples)
    elif ranges:
        inputs = [None] * len(ranges)
    else:
        raise UsageError("give --input SHAPE (or --input-range) for each model input; the factory returned no examples")
    if len(ranges) > len(inputs):
        raise UsageError(f"{len(ranges)} --input-range values for {len(inputs)} inputs")
    for i, (mn, opt, mx) in enumerate(ranges):
        base = inputs[i]
        if base is not None:
            base_shape = base.opt_shape if isinstance(base, Input) else tuple(base.shape)
            if len(base_shape) != len(opt):
                raise UsageError(
                    f"--input-range {i}: rank {len(opt)} does not match input {i} of rank {len(base_shape)}"
                )
        in_dtype = base.dtype if base is not None else dtype
        inputs[i] = Input(min_shape=mn, opt_shape=opt, max_shape=mx, dtype=in_dtype)
    return inputs


def _load_model(spec: str) -> tuple[Any, Optional[Sequence[Any]]]:
    made = load_factory(spec)()
    if isinstance(made, tuple) and len(made) == 2:
        return made[0], made[1]
    return made, None


def atomic_write(path: str, data: Union[bytes, memoryview]) -> None:
    """Write ``data`` to ``path`` atomically, creating missing directories."""
    atomic_write_bytes(path, data, make_dirs=True, what="torchtrt")


def cmd_compile(args: argparse.Namespace) -> int:
    from rich.table import Table

    import torch_tensorrt
    from torch_tensorrt._console import console as make_console
    from torch_tensorrt.dynamo import _frontend, _progress, convert_exported_program

    console = make_console()
    model, examples = _load_model(args.model)
    inputs = build_inputs(args, examples)
    start = time.perf_counter()
    with console.status("exporting the model with torch.export ..."):
        spec = _frontend.user_inputs(inputs, where="torchtrt compile")
        ep = _frontend.to_exported_program(model, spec, where="torchtrt compile")
    export_s = time.perf_counter() - start
    precision = {"fp32": torch_tensorrt.dynamo.CompilationSettings().enabled_precisions}.get(
        args.precision, {args.precision}
    )
    with _progress.bars(console=console):  # a bar per engine: operators converted, then the build
        converted = convert_exported_program(
            ep,
            inputs,
            enabled_precisions=precision,
            optimization_level=args.optimization_level,
        )
    atomic_write(args.output, converted.engine)
    total = time.perf_counter() - start
    table = Table(title=f"engine {args.output}")
    for col in ("binding", "kind", "dtype", "shape", "min", "opt", "max"):
        table.add_column(col)
    for kind, specs in (("input", converted.metadata.inputs), ("output", converted.metadata.outputs)):
        for s in specs:
            table.add_row(
                s.name,
                kind,
                s.dtype,
                "x".join(map(str, s.shape)),
                *("x".join(map(str, v)) if v else "-" for v in (s.min, s.opt, s.max)),
            )
    console.print(table)
    console.print(
        f"1 engine, {converted.network.network.num_layers} layers, {len(converted.engine) / 1e6:.2f} MB, "
        f"precision {args.precision}; export {export_s:.2f} s, conversion+build {total - export_s:.2f} s "
        f"(build {converted.build.seconds:.2f} s)"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from torch_tensorrt.tools.coverage import coverage, print_report, write_html

    model, examples = _load_model(args.model)
    inputs = build_inputs(args, examples)
    settings = {} if args.min_block_size is None else {"min_block_size": args.min_block_size}
    report = coverage(model, inputs, build=args.build, **settings)
    report.title = args.model.rpartition(":")[2]
    print_report(report, show_all=args.all)
    if args.html:
        write_html(report, args.html)
        print(f"wrote {args.html}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from torch_tensorrt.tools.inspect_file import InspectError, inspect_file, print_inspection

    try:
        result = inspect_file(args.file)
    except InspectError as exc:
        print(f"torchtrt inspect: {exc}", file=sys.stderr)
        return 1
    if args.json:
        import json

        print(json.dumps(result.to_json(), indent=2))
    else:
        print_inspection(result)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "compile":
            return cmd_compile(args)
        if args.command == "inspect":
            return cmd_inspect(args)
        return cmd_report(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"torchtrt {args.command}: error: {exc}", file=sys.stderr)
        return USAGE_EXIT
    except TorchTensorRTError as exc:
        print(f"torchtrt {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", []):
            print(note, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
