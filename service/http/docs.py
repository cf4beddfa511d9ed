"""The API docs (Swagger UI at /docs, ReDoc at /redoc) served from files installed with the
project: an intranet has no CDN. Both are vendored from npm under `static/` with their licences:
Swagger UI 5 (`swagger-ui-dist`, Apache-2.0; version 4, which PyPI's swagger-ui-bundle ships,
cannot read the OpenAPI 3.1 FastAPI writes) and ReDoc's standalone script (MIT)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
SWAGGER_UI, REDOC = STATIC / "swagger-ui", STATIC / "redoc"
SWAGGER_FILES = "/docs/files"
REDOC_FILES = "/redoc/files"


def install(app: FastAPI) -> None:
    """Serve /docs and /redoc and their files; the app is made with docs_url=redoc_url=None."""
    app.mount(SWAGGER_FILES, StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
    app.mount(REDOC_FILES, StaticFiles(directory=REDOC), name="redoc")
    openapi, title = app.openapi_url or "/openapi.json", app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi, title=f"{title} API", oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{SWAGGER_FILES}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_FILES}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_FILES}/favicon-32x32.png",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi, title=f"{title} API", with_google_fonts=False,
            redoc_js_url=f"{REDOC_FILES}/redoc.standalone.js",
            redoc_favicon_url=f"{SWAGGER_FILES}/favicon-32x32.png",
        )
