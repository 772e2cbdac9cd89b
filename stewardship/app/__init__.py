"""The data steward web app (`e360 steward serve`): FastAPI, server-rendered pages."""

from stewardship.app.factory import create_app

__all__ = ["create_app"]
