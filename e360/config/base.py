"""What every configuration section shares: unknown keys refused, values frozen."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Section(BaseModel):
    """One section of `e360.yaml`: a misspelt key is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
