"""The fake control plane (`modal.client.ModalClient`): credentials, apps, images and sandboxes (V2).

Every call must carry the token id and secret; the V2 sandbox calls also need the short-lived auth token
from `AuthTokenGet`. Image builds succeed at once. RPCs not written here answer UNIMPLEMENTED.
"""

from __future__ import annotations

import hashlib
from typing import Any

from google.protobuf import empty_pb2
from grpclib import GRPCError, Status
from grpclib.server import Stream
from modal_proto import api_grpc, api_pb2

from tests.fakes.modal.calls import guarded, header
from tests.fakes.modal.sandboxes import FakeSandbox
from tests.fakes.modal.state import FakeModalState, new_id

IMAGE_BUILDER_VERSION = "2025.06"
LONG_POLL_SECONDS = 10.0
LIST_PAGE_SIZE = 100
_STATUS = api_pb2.GenericResult


class ControlPlane(api_grpc.ModalClientBase):
    def __init__(self, state: FakeModalState) -> None:
        self.state = state
        self.log = state.log

    def __mapping__(self) -> dict[str, Any]:
        return guarded(super().__mapping__(), self.log, self._authenticate)

    def _authenticate(self, method: str, stream: Stream[Any, Any]) -> None:
        credentials = (header(stream, "x-modal-token-id"), header(stream, "x-modal-token-secret"))
        if credentials != (self.state.token_id, self.state.token_secret):
            raise GRPCError(Status.UNAUTHENTICATED, "Token ID or secret is invalid")
        if method.endswith("V2") or method == "SandboxGetCommandRouterAccess":
            token = header(stream, "x-modal-auth-token")
            if token is None or self.state.auth_tokens.subject(token) is None:
                raise GRPCError(Status.UNAUTHENTICATED, "Missing or expired auth token")

    async def AuthTokenGet(self, stream: Stream[api_pb2.AuthTokenGetRequest, api_pb2.AuthTokenGetResponse]) -> None:
        await stream.recv_message()
        await stream.send_message(api_pb2.AuthTokenGetResponse(token=self.state.auth_tokens.issue("client")))

    async def ClientHello(self, stream: Stream[empty_pb2.Empty, api_pb2.ClientHelloResponse]) -> None:
        await stream.recv_message()
        await stream.send_message(api_pb2.ClientHelloResponse())

    async def EnvironmentGetOrCreate(
        self, stream: Stream[api_pb2.EnvironmentGetOrCreateRequest, api_pb2.EnvironmentGetOrCreateResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        settings = api_pb2.EnvironmentSettings(image_builder_version=IMAGE_BUILDER_VERSION)
        metadata = api_pb2.EnvironmentMetadata(name=request.deployment_name or "main", settings=settings)
        await stream.send_message(api_pb2.EnvironmentGetOrCreateResponse(environment_id="en-fake", metadata=metadata))

    async def AppGetOrCreate(
        self, stream: Stream[api_pb2.AppGetOrCreateRequest, api_pb2.AppGetOrCreateResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        app_id = self.state.apps.get(request.app_name)
        if app_id is None:
            if request.object_creation_type != api_pb2.OBJECT_CREATION_TYPE_CREATE_IF_MISSING:
                raise GRPCError(Status.NOT_FOUND, f"App '{request.app_name}' not found")
            app_id = self.state.apps[request.app_name] = new_id("ap")
        metadata = api_pb2.AppHandleMetadata(app_id=app_id, environment_name=request.environment_name or "main")
        await stream.send_message(api_pb2.AppGetOrCreateResponse(app_id=app_id, handle_metadata=metadata))

    async def ImageGetOrCreate(
        self, stream: Stream[api_pb2.ImageGetOrCreateRequest, api_pb2.ImageGetOrCreateResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        self._app(request.app_id)
        for base in request.image.base_images:
            if base.image_id and base.image_id not in self.state.images:
                raise GRPCError(Status.NOT_FOUND, f"Image {base.image_id} not found")
        digest = hashlib.sha256(request.image.SerializeToString(deterministic=True)).hexdigest()
        image_id = f"im-{digest[:24]}"
        self.state.images[image_id] = request.image
        metadata = api_pb2.ImageMetadata(
            python_version_info="Python 3.11.9", image_builder_version=request.builder_version
        )
        result = api_pb2.GenericResult(status=_STATUS.GENERIC_STATUS_SUCCESS)
        await stream.send_message(api_pb2.ImageGetOrCreateResponse(image_id=image_id, result=result, metadata=metadata))

    async def SandboxCreateV2(
        self, stream: Stream[api_pb2.SandboxCreateV2Request, api_pb2.SandboxCreateV2Response]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        self._app(request.app_id)
        if request.definition.image_id not in self.state.images:
            raise GRPCError(Status.NOT_FOUND, f"Image {request.definition.image_id} not found")
        name = request.definition.name
        if name and any(s.running and s.definition.name == name for s in self.state.sandboxes.values()):
            raise GRPCError(Status.ALREADY_EXISTS, f"A sandbox named '{name}' is already running")
        sandbox_id, task_id = new_id("sb-v2"), new_id("ta", "V")
        sandbox = FakeSandbox(
            sandbox_id,
            task_id,
            request.app_id,
            request,
            self.state.host_dir / sandbox_id,
            self.state.created_at(),
        )
        self.state.sandboxes[sandbox_id] = sandbox
        await sandbox.start()
        await stream.send_message(
            api_pb2.SandboxCreateV2Response(
                sandbox_id=sandbox_id,
                task_id=task_id,
                command_router_access=self._router_access(sandbox),
                metadata=api_pb2.SandboxHandleMetadata(app_id=request.app_id),
            )
        )

    async def SandboxGetTaskIdV2(
        self, stream: Stream[api_pb2.SandboxGetTaskIdRequest, api_pb2.SandboxGetTaskIdResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        sandbox = self.state.sandbox(request.sandbox_id)
        if sandbox.result is not None:
            await stream.send_message(api_pb2.SandboxGetTaskIdResponse(task_result=sandbox.result))
        else:
            await stream.send_message(api_pb2.SandboxGetTaskIdResponse(task_id=sandbox.task_id))

    async def SandboxGetCommandRouterAccess(
        self,
        stream: Stream[api_pb2.SandboxGetCommandRouterAccessRequest, api_pb2.SandboxGetCommandRouterAccessResponse],
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        if request.sandbox_id:
            sandbox = self.state.sandbox(request.sandbox_id)
        else:
            sandbox = self.state.sandbox_of_task(request.task_id)
        access = self._router_access(sandbox)
        await stream.send_message(api_pb2.SandboxGetCommandRouterAccessResponse(url=access.url, jwt=access.jwt))

    async def SandboxWaitV2(self, stream: Stream[api_pb2.SandboxWaitRequest, api_pb2.SandboxWaitResponse]) -> None:
        request = await stream.recv_message()
        assert request is not None
        sandbox = self.state.sandbox(request.sandbox_id)
        await sandbox.wait(min(request.timeout, LONG_POLL_SECONDS))
        await stream.send_message(
            api_pb2.SandboxWaitResponse(
                result=sandbox.result, metadata=api_pb2.SandboxHandleMetadata(app_id=sandbox.app_id)
            )
        )

    async def SandboxTerminateV2(
        self, stream: Stream[api_pb2.SandboxTerminateRequest, api_pb2.SandboxTerminateResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        sandbox = self.state.sandbox(request.sandbox_id)
        existing = sandbox.result
        await sandbox.finish(_STATUS.GENERIC_STATUS_TERMINATED)
        await stream.send_message(api_pb2.SandboxTerminateResponse(existing_result=existing))

    async def SandboxTagsGetV2(
        self, stream: Stream[api_pb2.SandboxTagsGetRequest, api_pb2.SandboxTagsGetResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        sandbox = self.state.sandbox(request.sandbox_id)
        await stream.send_message(api_pb2.SandboxTagsGetResponse(tags=_tags(sandbox.tags)))

    async def SandboxTagsSetV2(self, stream: Stream[api_pb2.SandboxTagsSetRequest, empty_pb2.Empty]) -> None:
        request = await stream.recv_message()
        assert request is not None
        sandbox = self.state.sandbox(request.sandbox_id)
        sandbox.tags = {tag.tag_name: tag.tag_value for tag in request.tags}
        await stream.send_message(empty_pb2.Empty())

    async def SandboxListV2(self, stream: Stream[api_pb2.SandboxListRequest, api_pb2.SandboxListResponse]) -> None:
        request = await stream.recv_message()
        assert request is not None
        wanted = {tag.tag_name: tag.tag_value for tag in request.tags}
        matching = [
            sandbox
            for sandbox in self.state.sandboxes.values()
            if (not request.app_id or sandbox.app_id == request.app_id)
            and (request.include_finished or sandbox.running)
            and (not request.before_timestamp or sandbox.created_at < request.before_timestamp)
            and wanted.items() <= sandbox.tags.items()
        ]
        matching.sort(key=lambda sandbox: sandbox.created_at, reverse=True)
        page = [_info(sandbox) for sandbox in matching[:LIST_PAGE_SIZE]]
        await stream.send_message(api_pb2.SandboxListResponse(sandboxes=page))

    async def SandboxGetFromNameV2(
        self, stream: Stream[api_pb2.SandboxGetFromNameRequest, api_pb2.SandboxGetFromNameResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        app_id = self.state.apps.get(request.app_name)
        for sandbox in sorted(self.state.sandboxes.values(), key=lambda s: s.created_at, reverse=True):
            named = sandbox.app_id == app_id and sandbox.definition.name == request.sandbox_name
            if named and (sandbox.running or request.include_terminated):
                metadata = api_pb2.SandboxHandleMetadata(app_id=sandbox.app_id)
                await stream.send_message(
                    api_pb2.SandboxGetFromNameResponse(sandbox_id=sandbox.sandbox_id, metadata=metadata)
                )
                return
        raise GRPCError(Status.NOT_FOUND, f"Sandbox '{request.sandbox_name}' not found")

    def _app(self, app_id: str) -> None:
        if app_id not in self.state.apps.values():
            raise GRPCError(Status.NOT_FOUND, f"App {app_id} not found")

    def _router_access(self, sandbox: FakeSandbox) -> api_pb2.CommandRouterAccess:
        if not sandbox.running:
            raise GRPCError(Status.FAILED_PRECONDITION, f"Sandbox {sandbox.sandbox_id} has already finished")
        jwt = self.state.router_tokens.issue(sandbox.task_id)
        return api_pb2.CommandRouterAccess(url=self.state.router_url, jwt=jwt)


def _tags(tags: dict[str, str]) -> list[api_pb2.SandboxTag]:
    return [api_pb2.SandboxTag(tag_name=name, tag_value=value) for name, value in tags.items()]


def _info(sandbox: FakeSandbox) -> api_pb2.SandboxInfo:
    return api_pb2.SandboxInfo(
        id=sandbox.sandbox_id,
        created_at=sandbox.created_at,
        app_id=sandbox.app_id,
        tags=_tags(sandbox.tags),
        name=sandbox.definition.name,
        image_id=sandbox.definition.image_id,
        task_info=api_pb2.TaskInfo(id=sandbox.task_id, sandbox_id=sandbox.sandbox_id, result=sandbox.result),
        metadata=api_pb2.SandboxHandleMetadata(app_id=sandbox.app_id),
    )
