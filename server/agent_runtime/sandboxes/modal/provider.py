"""Sandboxes on Modal: one per session, in one Modal app, found again by a tag after a runtime restart."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import urllib.parse
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
import modal
import modal.exception

from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import (
    ANY_PUBLIC_HOST,
    WORKSPACE,
    Execution,
    Sandbox,
    SandboxLimits,
    SandboxProvider,
    SandboxSpec,
    SandboxUnavailable,
)
from agent_runtime.sandboxes.modal.execution import ModalExecution
from agent_runtime.sandboxes.modal.image import image_for
from agent_runtime.sandboxes.modal.sandbox import ModalSandbox
from agent_runtime.sandboxes.modal.translation import provider_error

SESSION_TAG = "agent-runtime.session_id"
# The spec's default exec time limit, kept on the sandbox so that one found after a restart keeps it.
EXEC_TIMEOUT_TAG = "agent-runtime.exec_timeout_seconds"
MISSING_CREDENTIALS = "Modal credentials are missing: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET"
MIB = 1024 * 1024


class ModalSandboxProvider:
    name = "modal"
    outlives_runtime = True
    installs_packages = True

    def __init__(
        self,
        *,
        app_name: str = "agent-runtime",
        idle_timeout_seconds: int = 15 * 60,
        sandbox_timeout_seconds: int = 24 * 60 * 60,
        watch_interval_seconds: float = 2.0,
        client: modal.Client | None = None,
    ) -> None:
        """Without a `client`, one is made from MODAL_TOKEN_ID / MODAL_TOKEN_SECRET (and owned, so closed)."""
        self._app_name = app_name
        self._idle_timeout = idle_timeout_seconds
        self._sandbox_timeout = sandbox_timeout_seconds
        self._watch_interval = watch_interval_seconds
        self._client = client
        self._owns_client = client is None
        self._app: modal.App | None = None
        self._connecting = asyncio.Lock()
        self._images: dict[tuple[str, tuple[str, ...], tuple[str, ...]], modal.Image] = {}
        self._opened: weakref.WeakSet[ModalSandbox] = weakref.WeakSet()

    async def _connected(self) -> tuple[modal.App, modal.Client]:
        async with self._connecting:
            if self._client is None:
                token_id, token_secret = os.environ.get("MODAL_TOKEN_ID"), os.environ.get("MODAL_TOKEN_SECRET")
                if not token_id or not token_secret:
                    raise SandboxUnavailable(MISSING_CREDENTIALS)
                self._client = await modal.Client.from_credentials.aio(token_id, token_secret)
            if self._app is None:
                self._app = await modal.App.lookup.aio(self._app_name, create_if_missing=True, client=self._client)
            return self._app, self._client

    async def check(self) -> None:
        try:
            await self._connected()
        except modal.exception.AuthError as error:
            raise SandboxUnavailable(
                f"Modal rejected the credentials (MODAL_TOKEN_ID/MODAL_TOKEN_SECRET): {error}"
            ) from error
        except (modal.exception.Error, OSError) as error:
            raise SandboxUnavailable(f"cannot reach Modal: {type(error).__name__}: {error}") from error

    def _image(self, spec: SandboxSpec) -> modal.Image:
        key = (spec.profile_id, tuple(spec.npm_dependencies), tuple(spec.pip_dependencies))
        if key not in self._images:
            self._images[key] = image_for(spec)
        return self._images[key]

    async def create(self, spec: SandboxSpec) -> ModalSandbox:
        app, client = await self._connected()
        memory_mib = max(1, spec.limits.memory_bytes // MIB)
        try:
            handle = await modal.Sandbox.create.aio(
                app=app,
                client=client,
                image=self._image(spec),
                workdir=WORKSPACE,
                env={"HOME": WORKSPACE, **spec.env},
                timeout=self._sandbox_timeout,
                idle_timeout=self._idle_timeout,
                memory=(memory_mib, memory_mib),
                tags={SESSION_TAG: spec.session_id, EXEC_TIMEOUT_TAG: str(spec.limits.exec_timeout_seconds)},
                **_network([*spec.allowed_hosts, *_host_of(spec.model_proxy_url)]),
            )
        except modal.exception.InvalidError as error:
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SANDBOX_SPEC", f"Modal refused: {error}"
            ) from error
        except modal.exception.Error as error:
            raise provider_error("(new)", error) from error
        try:
            sandbox = await ModalSandbox.open(
                handle, spec.session_id, spec.limits.exec_timeout_seconds, self._watch_interval
            )
        except BaseException:
            with contextlib.suppress(modal.exception.Error):
                await handle.terminate.aio()
            raise
        self._opened.add(sandbox)
        return sandbox

    async def find(self, session_id: str) -> ModalSandbox | None:
        app, client = await self._connected()
        try:
            # Read to the end rather than stop at the first, so no listing is left half-read.
            handles = [
                h
                async for h in modal.Sandbox.list.aio(app_id=app.app_id, tags={SESSION_TAG: session_id}, client=client)
            ]
            if not handles:
                return None
            handle = handles[0]  # the newest
            tags = await handle.get_tags.aio()
        except modal.exception.Error as error:
            raise provider_error(f"(of session {session_id})", error) from error
        exec_timeout = float(tags.get(EXEC_TIMEOUT_TAG, SandboxLimits().exec_timeout_seconds))
        try:
            sandbox = await ModalSandbox.open(handle, session_id, exec_timeout, self._watch_interval)
        except ApiError as error:
            if error.reason == "SANDBOX_TERMINATED":  # it ended between the listing and now
                return None
            raise
        self._opened.add(sandbox)
        return sandbox

    async def close(self) -> None:
        """Lets go of every sandbox (they keep running) and of the client if this provider made it."""
        for sandbox in list(self._opened):
            await sandbox.detach()
        if self._owns_client and self._client is not None:
            await self._client.close.aio()
            self._client = None
        self._app = None


def _host_of(url: str) -> list[str]:
    host = urllib.parse.urlsplit(url).hostname
    return [host] if host else []


def _network(allowed_hosts: Sequence[str]) -> dict[str, Any]:
    """No hosts: no network at all. Otherwise only those: addresses and ranges by CIDR, names by domain."""
    if not allowed_hosts:
        return {"block_network": True}
    if ANY_PUBLIC_HOST in allowed_hosts:
        return {}  # any host: the sandbox runs in Modal's cloud, away from the runtime's host and networks
    cidrs, domains = [], []
    for host in allowed_hosts:
        try:
            cidrs.append(str(ipaddress.ip_network(host, strict=False)))
        except ValueError:
            domains.append(host.split(":", 1)[0] if host.count(":") == 1 else host)
    return {"outbound_cidr_allowlist": cidrs or None, "outbound_domain_allowlist": domains or None}


if TYPE_CHECKING:  # mypy proves the adapter implements the sandbox interface

    def _conforms(
        provider: ModalSandboxProvider, sandbox: ModalSandbox, execution: ModalExecution
    ) -> tuple[SandboxProvider, Sandbox, Execution]:
        return provider, sandbox, execution
