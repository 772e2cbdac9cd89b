"""Typed configuration: one `e360.yaml`, validated on load, overridable by `E360__A__B` variables.

Every mistake is reported as `<file>: <dotted.key>: <reason>` so it can be fixed without a
traceback. One module per section of the file, then how it is read and checked:

- `project`: `project` and `paths`, and `E360Config`, the whole file;
- `sources`: each source (files or Kafka stream, CSV options, events);
- `entities`: matching, training, comparisons and survivorship per entity;
- `deployment`: catalog, engine, warehouse and lock;
- `evaluation`: the `evaluation` (ground truth) and `quality` (limits) sections;
- `stewardship`: the steward store and sign-in;
- `loading`: `load_config`, the YAML parser, environment variables and overrides, blame;
- `checks`: the checks across sections a schema cannot express.
"""

from e360.config.base import Probability, Section
from e360.config.deployment import (
    CatalogSettings,
    DeploymentSettings,
    EngineSettings,
    LockSettings,
    PostgresWarehouse,
    RedshiftWarehouse,
    WarehouseSettings,
)
from e360.config.entities import (
    BlockingRule,
    ComparisonConfig,
    CustomRule,
    EntityConfig,
    MatchingConfig,
    SurvivorshipConfig,
    SurvivorshipRule,
    SurvivorshipRuleName,
    TrainingConfig,
)
from e360.config.evaluation import EvaluationSettings, QualitySettings
from e360.config.loading import (
    ENV_PREFIX,
    UniqueKeyLoader,
    load_config,
    parse_yaml,
    validation_reason,
    yaml_error_location,
)
from e360.config.project import E360Config, PathSettings, ProjectSettings
from e360.config.sources import (
    CsvOptions,
    EventReference,
    EventSettings,
    S3Location,
    SourceConfig,
    StreamSettings,
)
from e360.config.stewardship import StewardshipSettings

__all__ = [
    "ENV_PREFIX",
    "BlockingRule",
    "CatalogSettings",
    "ComparisonConfig",
    "CsvOptions",
    "CustomRule",
    "DeploymentSettings",
    "E360Config",
    "EngineSettings",
    "EntityConfig",
    "EvaluationSettings",
    "EventReference",
    "EventSettings",
    "LockSettings",
    "MatchingConfig",
    "PathSettings",
    "PostgresWarehouse",
    "Probability",
    "ProjectSettings",
    "QualitySettings",
    "RedshiftWarehouse",
    "S3Location",
    "Section",
    "SourceConfig",
    "StewardshipSettings",
    "StreamSettings",
    "SurvivorshipConfig",
    "SurvivorshipRule",
    "SurvivorshipRuleName",
    "TrainingConfig",
    "UniqueKeyLoader",
    "WarehouseSettings",
    "load_config",
    "parse_yaml",
    "validation_reason",
    "yaml_error_location",
]
