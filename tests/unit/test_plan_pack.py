"""The packed plan of an ABI 4 record (torch_tensorrt.runtime._plan_pack): text-like parts of a plan become zstd
chunks, weight-like parts stay verbatim, any plan round-trips byte for byte, and a record read back re-saves to
the same bytes without compressing again. Malformed containers are the ``abi4-*`` cases of
``tests/reliability/bad_records.json`` (both runtimes)."""

from __future__ import annotations

import hashlib
import os
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torch_tensorrt.runtime import _plan_pack as pp
from torch_tensorrt.runtime._record import EngineRecord, Field, RecordError
from torch_tensorrt.runtime._record_frame import unframe

KB = 1024
#: A stand-in for TensorRT-RTX's kernel-source prelude: ~128 KB of text, the same in every kernel.
PRELUDE = b"".join(
    b"template <typename T> __device__ inline T helper_%d(T a, T b) { return a * b + %d; }\n" % (i, i)
    for i in range(1600)
)


def _weights(n: int, seed: int = 0) -> bytes:
    """Bytes that look like fp32 weights (what packing must leave verbatim)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n // 4, generator=g).numpy().tobytes()


def _kernels(count: int) -> bytes:
    return b"".join(
        PRELUDE + b'extern "C" __global__ void kernel_%d(float* x) { x[0] += %d; }\n' % (i, i) for i in range(count)
    )


def _encode(plan: bytes, packing: pp.Packing) -> bytes:
    return b"".join(bytes(p) for p in pp.pieces(plan, packing))


def test_metadata_and_kernel_sources_are_compressed_and_weights_kept_verbatim():
    weights = _weights(3 << 20)
    plan = os.urandom(300) + _kernels(30) + weights
    packing = pp.pack(plan)
    assert [c.data is not None for c in packing.chunks] == [True, False]
    # the 30 repeated preludes cost about one: the zstd chunk is a small fraction of one prelude's text
    assert packing.stored_size - len(weights) < len(PRELUDE) // 4, (packing.stored_size, len(weights))
    # the weights verbatim from the first whole block on (the block where text ends is compressed with it)
    boundary = packing.chunks[1].start
    assert boundary % pp.BLOCK == 0 and 0 <= boundary - (len(plan) - len(weights)) < pp.BLOCK
    assert plan[boundary:] in _encode(plan, packing)
    back, read = pp.unpack(_encode(plan, packing), "engine 'e': ")
    assert bytes(back) == plan and read == packing


def test_a_plan_that_does_not_compress_is_one_stored_chunk_read_without_a_copy():
    plan = _weights(1 << 20)
    packing = pp.pack(plan)
    assert packing == pp.stored(len(plan)) and not packing.compressed
    field = _encode(plan, packing)
    assert len(field) == len(plan) + 20 + 17  # the header and one chunk header: nothing else
    back, _ = pp.unpack(field, "")
    assert isinstance(back, memoryview) and back.obj is field and back == plan


def test_a_saving_under_the_threshold_is_not_worth_a_decoding_copy():
    small_text = _kernels(1)[: 40 * KB]
    plan = _weights(4 << 20) + small_text  # 40 KB of text: saves < MIN_SAVING
    assert not pp.pack(plan).compressed
    assert pp.pack(_weights(4 << 20) + _kernels(2)).compressed


def test_plans_under_the_minimum_saving_are_stored():
    assert pp.pack(b"x" * (pp.MIN_SAVING - 1)) == pp.stored(pp.MIN_SAVING - 1)


_SEGMENT = st.tuples(st.sampled_from(["text", "weights", "zeros"]), st.integers(1, 300 * KB))


@settings(max_examples=25, deadline=None)
@given(st.lists(_SEGMENT, min_size=1, max_size=6), st.integers(0, 2**31))
def test_any_plan_round_trips_byte_for_byte(segments, seed):
    rng = random.Random(seed)
    parts = []
    for kind, n in segments:
        if kind == "text":
            start = rng.randrange(len(PRELUDE))
            parts.append(
                (PRELUDE[start:] + PRELUDE)[:n] if n <= 2 * len(PRELUDE) else PRELUDE * (n // len(PRELUDE) + 1)
            )
        elif kind == "weights":
            parts.append(_weights(n - n % 4 or 4, rng.randrange(1000)))
        else:
            parts.append(bytes(n))
    plan = b"".join(parts)
    packing = pp.pack(plan)
    assert pp.pack(plan) == packing  # deterministic
    field = _encode(plan, packing)
    assert len(field) == packing.stored_size <= len(plan) + 20 + 17
    back, read = pp.unpack(field, "")
    assert bytes(back) == plan
    assert _encode(bytes(back), read) == field  # re-saving writes the same bytes


def _record(plan: bytes) -> EngineRecord:
    spec = {"name": "x", "dtype": "float32", "shape": [2], "min": None, "opt": None, "max": None}
    out = dict(spec, name="y")
    return EngineRecord(
        name="packed",
        engine=plan,
        input_binding_names=["x"],
        output_binding_names=["y"],
        metadata={"inputs": [spec], "outputs": [out], "settings": {}},
    )


def test_a_record_stores_the_plan_packed_and_reads_back_the_plain_plan():
    plan = os.urandom(1000) + _kernels(8) + _weights(1 << 20)
    rec = _record(plan)
    data = rec.to_bytes()
    assert len(data) < len(plan) - 7 * len(PRELUDE) // 2  # most of 8 kernel sources gone
    engine_field = unframe(data, [f.name for f in Field])[Field.ENGINE]
    assert bytes(engine_field[:8]) == pp.PACK_MAGIC
    back = EngineRecord.from_bytes(data)
    assert bytes(back.engine) == plan and back.engine_sha256 == hashlib.sha256(plan).hexdigest()
    assert back.packing == rec.packing  # read back, not re-packed: saving again gives the same bytes
    assert back.to_bytes() == data


def test_a_zstd_plan_without_the_zstandard_package_names_the_engine_and_the_fix(monkeypatch):
    data = _record(_kernels(4) + _weights(256 * KB)).to_bytes()

    def missing() -> None:
        raise ImportError("No module named 'zstandard'")

    monkeypatch.setattr(pp, "_zstd", missing)
    with pytest.raises(
        RecordError,
        match=r"engine 'packed': field ENGINE: the plan is zstd-compressed and the 'zstandard' package is not installed",
    ):
        EngineRecord.from_bytes(data)


def test_without_the_zstandard_package_plans_are_saved_whole_with_a_warning(monkeypatch, caplog):
    def missing() -> None:
        raise ImportError("No module named 'zstandard'")

    monkeypatch.setattr(pp, "_zstd", missing)
    pp._warn_no_zstd.cache_clear()
    plan = _kernels(4) + _weights(256 * KB)
    with caplog.at_level("WARNING", logger=pp.__name__):
        assert pp.pack(plan) == pp.stored(len(plan))
        assert pp.pack(plan) == pp.stored(len(plan))
    assert [r.getMessage() for r in caplog.records].count(
        "the 'zstandard' package is not installed: engine records store their plans uncompressed (pip install zstandard)"
    ) == 1  # once per process
    back, _ = pp.unpack(_encode(plan, pp.stored(len(plan))), "")  # and such a record reads without zstandard
    assert back == plan
