"""Running the steward app under uvicorn, with logs that carry no personal data."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from e360.config import E360Config
from stewardship.app.factory import create_app

# uvicorn's access log prints full paths and queries (record ids, search terms): it stays
# off; the app logs each request's route template, status and duration instead.
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "e360.steward": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def server(
    config: E360Config, *, host: str, port: int, log_config: dict[str, Any] | None = None
) -> uvicorn.Server:
    app = create_app(config)
    settings = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=LOG_CONFIG if log_config is None else log_config,
        # Behind the ALB: trust its X-Forwarded-* only from the load balancer's network.
        proxy_headers=True,
        server_header=False,
    )
    return uvicorn.Server(settings)


def serve(config: E360Config, *, host: str, port: int) -> None:
    server(config, host=host, port=port).run()


class BackgroundServer:
    """The app served from a thread (browser tests, screenshots): `with BackgroundServer(...)`."""

    def __init__(self, config: E360Config, *, host: str = "127.0.0.1", port: int) -> None:
        self.server = server(
            config,
            host=host,
            port=port,
            log_config={"version": 1, "disable_existing_loggers": False},
        )
        self.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the steward app did not start on {self.url}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def app(self) -> Any:
        return self.server.config.app
