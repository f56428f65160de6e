"""The web console (console/, built into console/dist by `make install`), served at / on the HTTP address:
index.html never cached (it names the current assets), the assets (their names carry a hash of their
content) cached for a year, and every answer with a Content-Security-Policy that lets the page load only
its own files and call only this origin, so no script the model wrote into a conversation can run."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web

DIST = Path(__file__).resolve().parents[2] / "console" / "dist"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SAFE_NAME = r"[A-Za-z0-9._-]+"  # the bundler's file names; no path may leave the assets folder


class ConsoleFiles:
    def __init__(self, dist: Path = DIST) -> None:
        self._dist = dist

    def attach(self, app: web.Application) -> None:
        app.router.add_get("/", self._index)
        app.router.add_get("/assets/{name:" + SAFE_NAME + "}", self._asset)

    def _headers(self, cache: str) -> dict[str, str]:
        return {
            "Content-Security-Policy": POLICY,
            "Cache-Control": cache,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    async def _index(self, request: web.Request) -> web.StreamResponse:
        index = self._dist / "index.html"
        if not index.is_file():
            return web.Response(
                status=404, text="the console is not built: run `make install`", headers=self._headers("no-store")
            )
        return web.FileResponse(index, headers=self._headers("no-cache") | {"Content-Type": "text/html; charset=utf-8"})

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        asset = self._dist / "assets" / request.match_info["name"]
        if not asset.is_file():
            raise web.HTTPNotFound(headers=self._headers("no-store"))
        kind = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
        return web.FileResponse(
            asset, headers=self._headers("public, max-age=31536000, immutable") | {"Content-Type": kind}
        )
