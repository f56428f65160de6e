"""The request bodies this Managed Agents API takes: the part of the SDKs' params it serves, as types that
both check a body (strictly: no coercion, no field it does not know) and describe it in /openapi.json, so
the document and the checks cannot drift apart. A body that breaks them is refused before any handler
reads it; the handlers then check what a type cannot say (a tool that exists, a version that follows)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Required

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from agent_runtime.managed_agents.errors import invalid

STRICT = ConfigDict(extra="forbid", strict=True)
Text = Annotated[str, Field(max_length=100_000)]
Labels = Annotated[dict[str, str], Field(max_length=16)]
LabelPatch = Annotated[dict[str, str | None], Field(max_length=16)]


class ModelConfig(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    id: Required[str]
    speed: Literal["standard", "fast"] | None


Model = str | ModelConfig


class PermissionPolicy(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["always_allow", "always_ask"]


class ToolConfig(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Required[str]
    type: str
    enabled: bool | None
    permission_policy: PermissionPolicy | None


class ToolsetDefault(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    enabled: bool | None
    permission_policy: PermissionPolicy | None


class Toolset(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["agent_toolset_20260401"]]
    default_config: ToolsetDefault | None
    configs: list[ToolConfig]


class McpToolset(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["mcp_toolset"]]
    mcp_server_name: Required[str]
    default_config: ToolsetDefault | None
    configs: list[ToolConfig]


class CustomTool(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["custom"]]
    name: Required[str]
    description: str
    input_schema: dict[str, Any]


Tool = Annotated[Toolset | McpToolset | CustomTool, Field(discriminator="type")]


class McpServer(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["url"]
    name: str
    url: str


class ServiceAccount(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["service_account"]


class AgentCreate(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Required[str]
    model: Required[Model]
    description: Text | None
    system: Text | None
    tools: Annotated[list[Tool], Field(max_length=256)]
    mcp_servers: Annotated[list[McpServer], Field(max_length=20)]
    metadata: Labels
    execution_identity: ServiceAccount | None


class AgentUpdate(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    version: Annotated[int, Field(ge=1)]
    name: str
    model: Model
    description: Text | None
    system: Text | None
    tools: Annotated[list[Tool], Field(max_length=256)] | None
    mcp_servers: Annotated[list[McpServer], Field(max_length=20)] | None
    metadata: LabelPatch | None
    execution_identity: ServiceAccount | None


class Unrestricted(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["unrestricted"]


class Limited(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["limited"]]
    allowed_hosts: list[str] | None
    allow_mcp_servers: bool | None
    allow_package_managers: bool | None


class Packages(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["packages"]
    pip: list[str] | None
    npm: list[str] | None
    apt: list[str] | None
    cargo: list[str] | None
    gem: list[str] | None
    go: list[str] | None


class CloudConfig(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["cloud"]]
    networking: Annotated[Unrestricted | Limited, Field(discriminator="type")] | None
    packages: Packages | None


class SelfHostedConfig(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["self_hosted"]


Config = Annotated[CloudConfig | SelfHostedConfig, Field(discriminator="type")]


class EnvironmentCreate(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Required[str]
    description: str | None
    config: Config | None
    metadata: Labels
    scope: Literal["organization"] | None


class EnvironmentUpdate(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: str
    description: str | None
    config: Config | None
    metadata: LabelPatch | None


class AgentReference(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["agent"]]
    id: Required[str]
    version: Annotated[int, Field(ge=1)]


class AgentWithModel(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["agent_with_overrides"]]
    id: Required[str]
    version: Annotated[int, Field(ge=1)]
    model: Model


class SessionCreate(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    agent: Required[str | Annotated[AgentReference | AgentWithModel, Field(discriminator="type")]]
    environment_id: Required[str]
    title: str | None
    metadata: Labels


class SessionUpdate(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    title: str | None
    metadata: LabelPatch | None


class TextBlock(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["text"]
    text: Text


class UserMessage(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["user.message"]
    content: Annotated[list[TextBlock], Field(min_length=1)]


class UserInterrupt(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Literal["user.interrupt"]


class ToolConfirmation(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["user.tool_confirmation"]]
    tool_use_id: Required[str]
    result: Required[Literal["allow", "deny"]]
    deny_message: str | None


class CustomToolResult(TypedDict, total=False):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    type: Required[Literal["user.custom_tool_result"]]
    custom_tool_use_id: Required[str]
    content: list[TextBlock]
    is_error: bool | None


SentEvent = Annotated[UserMessage | UserInterrupt | ToolConfirmation | CustomToolResult, Field(discriminator="type")]


class EventsSend(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    events: Annotated[list[SentEvent], Field(min_length=1, max_length=50)]


class Body:
    """A request body's type: its check and its schema."""

    def __init__(self, shape: Any) -> None:
        self.adapter: TypeAdapter[Any] = TypeAdapter(shape)

    def checked(self, body: Any) -> dict[str, Any]:
        try:
            checked: dict[str, Any] = self.adapter.validate_python(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the body"
            more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
            raise invalid("invalid_request", f"{where}: {first['msg']}{more}") from None
        return checked


AGENT_CREATE, AGENT_UPDATE = Body(AgentCreate), Body(AgentUpdate)
ENVIRONMENT_CREATE, ENVIRONMENT_UPDATE = Body(EnvironmentCreate), Body(EnvironmentUpdate)
SESSION_CREATE, SESSION_UPDATE = Body(SessionCreate), Body(SessionUpdate)
EVENTS_SEND = Body(EventsSend)
