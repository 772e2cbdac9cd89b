from __future__ import annotations

from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.images import ImageRepositories
from e360_infra.stacks.base import E360Stack


class ImagesStack(E360Stack):
    """The image repositories; deployed first so the images exist before the services start."""

    def __init__(self, scope: Construct, construct_id: str, *, env: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id, env=env, description="container image repositories")
        self.images = ImageRepositories(self, "Images", env=env)
        self.output("ImageRepository", self.images.service.repository_uri, "the e360 image")
        if self.images.spark is not None:
            self.output("SparkImageRepository", self.images.spark.repository_uri, "Spark image")
