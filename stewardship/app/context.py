"""What every request of the steward app works with: configuration, stores, lake, explainer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.templating import Jinja2Templates

from e360.config import E360Config
from stewardship.app.assignments import Assignments
from stewardship.app.lakeview import LakeView
from stewardship.app.security import SignInThrottle
from stewardship.explain import Explainer
from stewardship.store import DecisionStore
from stewardship.users import UserStore

APP_DIR = Path(__file__).resolve().parent


@dataclass
class AppContext:
    config: E360Config
    store: DecisionStore
    users: UserStore
    assignments: Assignments
    lake: LakeView
    explainer: Explainer
    templates: Jinja2Templates
    throttle: SignInThrottle = field(default_factory=SignInThrottle)

    @property
    def entities(self) -> list[str]:
        return list(self.config.entities)

    def close(self) -> None:
        self.explainer.close()
        self.store.close()
