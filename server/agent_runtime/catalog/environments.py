"""The environment RPCs: where sessions run, stored through storage. A session keeps a copy of its
environment as it was when the session was created, so changing or deleting one never changes a session."""

from __future__ import annotations

import re
import secrets
import string

import grpc
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, environment_pb2, persistence_pb2
from agent_runtime.catalog.profile_checks import check_hosts, check_labels, check_limits, check_packages
from agent_runtime.errors import ApiError, FieldViolation, bad_request
from agent_runtime.sandboxes.base import SandboxProvider
from agent_runtime.sandboxes.providers import PROVIDER_NAMES
from agent_runtime.sessions import validation
from agent_runtime.storage.client import StorageClient
from agent_runtime.storage.paging import decode_token, encode_token
from agent_runtime.storage.store import SessionCursor
from agent_runtime.timestamps import now

ID_PATTERN = re.compile(r"env_[0-9a-z]{24}")
ID_ALPHABET = string.digits + string.ascii_lowercase
UPDATABLE_PATHS = (
    "name",
    "description",
    "sandbox_provider",
    "pip_packages",
    "npm_packages",
    "network",
    "limits",
    "metadata",
)
MAX_DESCRIPTION_CHARS = 2048
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def new_environment_id() -> str:
    return "env_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(24))


def check_environment_id(field: str, environment_id: str) -> list[FieldViolation]:
    if ID_PATTERN.fullmatch(environment_id):
        return []
    return [FieldViolation(field, "must be an environment id: env_ and 24 of [0-9a-z]", "INVALID_ENVIRONMENT_ID")]


def check_environment(field: str, environment: environment_pb2.Environment) -> list[FieldViolation]:
    found = []
    if not environment.name or len(environment.name) > validation.MAX_NAME_CHARS:
        found.append(FieldViolation(f"{field}.name", "must be 1 to 256 characters", "INVALID_NAME"))
    if len(environment.description) > MAX_DESCRIPTION_CHARS:
        found.append(FieldViolation(f"{field}.description", "is longer than 2048 characters", "FIELD_TOO_LONG"))
    if environment.sandbox_provider not in ("", *PROVIDER_NAMES):
        found.append(
            FieldViolation(
                f"{field}.sandbox_provider", f"must be empty or one of {', '.join(PROVIDER_NAMES)}", "INVALID_PROVIDER"
            )
        )
    return [
        *found,
        *check_packages(f"{field}.pip_packages", environment.pip_packages),
        *check_packages(f"{field}.npm_packages", environment.npm_packages),
        *check_hosts(f"{field}.network.allowed_hosts", environment.network.allowed_hosts),
        *check_limits(f"{field}.limits", environment.limits),
        *check_labels(f"{field}.metadata", environment.metadata),
    ]


def environment_archived(environment_id: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "ENVIRONMENT_ARCHIVED",
        f"environment {environment_id!r} is archived: no session starts in it and it is not changed",
        metadata={"environment_id": environment_id},
    )


def _mask(request: agent_runtime_pb2.UpdateEnvironmentRequest) -> field_mask_pb2.FieldMask:
    paths = list(request.update_mask.paths)
    if paths == ["*"]:
        return field_mask_pb2.FieldMask(paths=UPDATABLE_PATHS)
    wrong = [path for path in paths if path not in UPDATABLE_PATHS]
    if not paths or wrong:
        shown = ", ".join(repr(path) for path in wrong) if wrong else "nothing"
        raise bad_request(
            [
                FieldViolation(
                    "update_mask",
                    f"names {shown}: give paths among {', '.join(UPDATABLE_PATHS)}",
                    "INVALID_UPDATE_MASK",
                )
            ]
        )
    return field_mask_pb2.FieldMask(paths=paths)


def _position(environment: environment_pb2.Environment) -> tuple[int, str]:
    """Where it stands in the newest-first order, which a page token resumes after (a cursor of the same
    shape as the sessions' one)."""
    return environment.created_at.ToMicroseconds(), environment.environment_id


class Environments:
    def __init__(self, storage: StorageClient, sandboxes: SandboxProvider) -> None:
        """`sandboxes`: the provider this runtime runs sandboxes with."""
        self._storage = storage
        self._sandboxes = sandboxes

    async def create(self, request: agent_runtime_pb2.CreateEnvironmentRequest) -> environment_pb2.Environment:
        validation.raise_if_any(check_environment("environment", request.environment))
        environment = environment_pb2.Environment()
        environment.CopyFrom(request.environment)
        environment.environment_id = new_environment_id()
        environment.created_at.CopyFrom(now())
        environment.updated_at.CopyFrom(environment.created_at)
        environment.ClearField("archived_at")
        return await self._storage.call(
            self._storage.stub.CreateEnvironmentRecord,
            persistence_pb2.CreateEnvironmentRecordRequest(environment=environment),
        )

    async def get(self, environment_id: str) -> environment_pb2.Environment:
        validation.raise_if_any(check_environment_id("environment_id", environment_id))
        return await self._storage.call(
            self._storage.stub.GetEnvironmentRecord,
            persistence_pb2.GetEnvironmentRecordRequest(environment_id=environment_id),
        )

    async def for_new_session(self, environment_id: str) -> environment_pb2.Environment:
        """The environment a new session is created in, if sessions may start in it on this runtime."""
        environment = await self.get(environment_id)
        if environment.HasField("archived_at"):
            raise environment_archived(environment_id)
        if environment.sandbox_provider not in ("", self._sandboxes.name):
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "SANDBOX_PROVIDER_UNAVAILABLE",
                f"environment {environment_id!r} needs {environment.sandbox_provider} sandboxes; this runtime runs"
                f" {self._sandboxes.name} ones",
                metadata={"environment_id": environment_id, "sandbox_provider": environment.sandbox_provider},
            )
        if (environment.pip_packages or environment.npm_packages) and not self._sandboxes.installs_packages:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "PACKAGES_NOT_INSTALLED",
                f"environment {environment_id!r} lists packages, which {self._sandboxes.name} sandboxes do not"
                " install: run it on a runtime with --sandbox modal, or drop its packages",
                metadata={"environment_id": environment_id, "sandbox_provider": self._sandboxes.name},
            )
        return environment

    async def list(
        self, request: agent_runtime_pb2.ListEnvironmentsRequest
    ) -> agent_runtime_pb2.ListEnvironmentsResponse:
        if request.page_size < 0:
            raise bad_request([FieldViolation("page_size", "must not be negative", "INVALID_PAGE_SIZE")])
        limit = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = decode_token(request.page_token)
        stored = await self._storage.call(
            self._storage.stub.ListEnvironmentRecords, persistence_pb2.ListEnvironmentRecordsRequest()
        )
        shown = [
            environment
            for environment in stored.environments
            if (request.include_archived or not environment.HasField("archived_at"))
            and (after is None or _position(environment) < (after.created_us, after.session_id))
        ]
        response = agent_runtime_pb2.ListEnvironmentsResponse(environments=shown[:limit])
        if len(shown) > limit:
            created_us, environment_id = _position(shown[limit - 1])
            response.next_page_token = encode_token(SessionCursor(created_us, environment_id))
        return response

    async def update(self, request: agent_runtime_pb2.UpdateEnvironmentRequest) -> environment_pb2.Environment:
        mask = _mask(request)
        current = await self.get(request.environment.environment_id)
        if current.HasField("archived_at"):
            raise environment_archived(current.environment_id)
        mask.MergeMessage(request.environment, current, replace_message_field=True, replace_repeated_field=True)
        validation.raise_if_any(check_environment("environment", current))
        current.updated_at.CopyFrom(now())
        return await self._replace(current)

    async def archive(self, request: agent_runtime_pb2.ArchiveEnvironmentRequest) -> environment_pb2.Environment:
        current = await self.get(request.environment_id)
        if current.HasField("archived_at"):
            return current
        current.archived_at.CopyFrom(now())
        current.updated_at.CopyFrom(current.archived_at)
        return await self._replace(current)

    async def delete(
        self, request: agent_runtime_pb2.DeleteEnvironmentRequest
    ) -> agent_runtime_pb2.DeleteEnvironmentResponse:
        validation.raise_if_any(check_environment_id("environment_id", request.environment_id))
        deleted = await self._storage.call(
            self._storage.stub.DeleteEnvironmentRecord,
            persistence_pb2.DeleteEnvironmentRecordRequest(environment_id=request.environment_id),
        )
        return agent_runtime_pb2.DeleteEnvironmentResponse(deleted=deleted.deleted)

    async def _replace(self, environment: environment_pb2.Environment) -> environment_pb2.Environment:
        return await self._storage.call(
            self._storage.stub.UpdateEnvironmentRecord,
            persistence_pb2.UpdateEnvironmentRecordRequest(environment=environment),
        )
