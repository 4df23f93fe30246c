"""Partitioning of lowered graphs into TensorRT and PyTorch parts."""

from torch_tensorrt.dynamo.partitioning._partitioner import ACC_PREFIX, PartitionResult, SupportReport, partition

__all__ = ["ACC_PREFIX", "PartitionResult", "SupportReport", "partition"]
