"""The stacks of one environment, deployed in this order: images, network, data, streaming,
warehouse, compute."""

from e360_infra.stacks.compute import ComputeStack
from e360_infra.stacks.data import DataStack
from e360_infra.stacks.images import ImagesStack
from e360_infra.stacks.network import NetworkStack
from e360_infra.stacks.streaming import StreamingStack
from e360_infra.stacks.warehouse import WarehouseStack

__all__ = [
    "ComputeStack",
    "DataStack",
    "ImagesStack",
    "NetworkStack",
    "StreamingStack",
    "WarehouseStack",
]
