"""e360: enterprise 360 master data and conformance service."""

from e360.config import E360Config, load_config
from e360.errors import E360Error

__version__ = "0.1.0"
__all__ = ["E360Config", "E360Error", "__version__", "load_config"]
