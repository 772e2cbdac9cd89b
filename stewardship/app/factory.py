"""The steward app: `create_app(config)` wires stores, security and pages together."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from e360.config import E360Config
from e360.errors import E360Error
from e360.lake import Lake
from matching.resolution.level_names import column_name
from stewardship.app.assignments import Assignments
from stewardship.app.context import APP_DIR, AppContext
from stewardship.app.lakeview import LakeView
from stewardship.app.pages import fmt_json, fmt_value, redirect, render, with_query
from stewardship.app.routes import admin, audit, auth, masters, queue, review, teach
from stewardship.app.security import Forbidden, SignInRequired, csrf_guard, session_secret
from stewardship.explain import Explainer
from stewardship.store import DecisionStore
from stewardship.users import UserStore

log = logging.getLogger("e360.steward")
SESSION_COOKIE = "e360_steward"

# Everything the pages load comes from this server: no inline script, no third party.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def create_app(
    config: E360Config,
    *,
    store: DecisionStore | None = None,
    lake: Lake | None = None,
) -> FastAPI:
    store = store or DecisionStore.from_config(config)
    lake = lake or Lake.from_config(config)
    templates = Jinja2Templates(directory=str(APP_DIR / "templates"))
    templates.env.filters["value"] = fmt_value
    templates.env.filters["json"] = fmt_json
    templates.env.filters["words"] = column_name  # date_of_birth -> Date of birth
    templates.env.globals["with_query"] = with_query
    context = AppContext(
        config=config,
        store=store,
        users=UserStore(store),
        assignments=Assignments(store),
        lake=LakeView(lake),
        explainer=Explainer(config, lake),
        templates=templates,
    )
    settings = config.stewardship
    if settings.auth == "alb_oidc" and settings.oidc_key_dir is None:
        log.warning(
            "stewardship.auth is alb_oidc without oidc_key_dir: the ALB token's claims are "
            "checked but its signature is not; keep the app reachable only through the ALB"
        )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        context.close()

    app = FastAPI(
        title="e360 data stewards",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.context = context
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(config),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.session_max_age_hours * 3600),
        same_site="lax",
        https_only=settings.secure_cookies,
    )

    @app.middleware("http")
    async def headers_and_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            if name == "cache-control" and request.url.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)
        # The route's template only: paths and queries can hold record ids and search terms.
        route = getattr(request.scope.get("route"), "path", "-")
        log.info(
            "%s %s %d %.0fms",
            request.method,
            route,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.method == "GET" and context.config.stewardship.auth == "local":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect(with_query("/login", {"next": target}))
        return JSONResponse({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"title": "Not allowed", "message": exc.message}, 403)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        titles = {404: "Not found", 400: "Bad request", 405: "Not allowed"}
        return render(
            request,
            "error.html",
            {"title": titles.get(exc.status_code, "Error"), "message": str(exc.detail)},
            exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
            for e in exc.errors()
        )
        return render(request, "error.html", {"title": "Bad request", "message": problems}, 422)

    @app.exception_handler(E360Error)
    async def e360_error(request: Request, exc: E360Error) -> Response:
        return render(request, "error.html", {"title": "Cannot do that", "message": str(exc)}, 400)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/static", StaticFiles(directory=str(APP_DIR / "static")), name="static")
    for module in (auth, review, queue, masters, audit, admin, teach):
        app.include_router(module.router)
    return app
