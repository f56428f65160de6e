"""An environment as Managed Agents writes and shows it, and the environment it is here.

`config` is `cloud` (networking and packages) or `self_hosted` (neither), both run by this runtime's
sandbox provider; the provider a created environment needs is its metadata key `sandbox_provider`.
Networking `unrestricted` is the allow-list "*": any host at a public address. pip and npm packages are
installed; apt, cargo, gem and go have no counterpart and are refused. The environment `default` is the
runtime's sandbox with the profile's settings alone: it is always there and cannot be changed."""

from __future__ import annotations

from typing import Any

from agent_runtime._gen.agentruntime.v1 import environment_pb2
from agent_runtime.catalog.environments import ID_PATTERN
from agent_runtime.managed_agents.errors import ManagedAgentsError, invalid
from agent_runtime.managed_agents.times import rfc3339
from agent_runtime.sandboxes.base import ANY_PUBLIC_HOST

DEFAULT_ENVIRONMENT_ID = "default"
PROVIDER_KEY = "sandbox_provider"
INSTALLED = ("pip", "npm")
NOT_INSTALLED = ("apt", "cargo", "gem", "go")
EPOCH = "1970-01-01T00:00:00Z"


def require_known_shape(environment_id: str) -> None:
    """An id this runtime could not have given is an environment that does not exist, as the SDKs expect."""
    if environment_id != DEFAULT_ENVIRONMENT_ID and not ID_PATTERN.fullmatch(environment_id):
        raise ManagedAgentsError(404, "environment_not_found", f"environment {environment_id[:80]!r} does not exist")


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid("invalid_config", f"{where} must be an array of strings")
    return value


def _networking(value: Any, environment: environment_pb2.Environment) -> None:
    if not isinstance(value, dict) or value.get("type") not in ("limited", "unrestricted"):
        raise invalid(
            "invalid_config", 'config.networking must be {"type": "unrestricted"} or {"type": "limited", ...}'
        )
    hosts = (
        [ANY_PUBLIC_HOST] if value["type"] == "unrestricted" else _strings(value.get("allowed_hosts"), "allowed_hosts")
    )
    environment.network.allowed_hosts[:] = hosts


def _packages(value: Any, environment: environment_pb2.Environment) -> None:
    if not isinstance(value, dict):
        raise invalid("invalid_config", "config.packages must be an object")
    refused = [manager for manager in NOT_INSTALLED if value.get(manager)]
    if refused:
        raise invalid(
            "not_served",
            f"agent-runtime installs pip and npm packages, not {', '.join(refused)}: use a profile's image",
        )
    environment.pip_packages[:] = _strings(value.get("pip"), "config.packages.pip")
    environment.npm_packages[:] = _strings(value.get("npm"), "config.packages.npm")


def apply_config(config: Any, environment: environment_pb2.Environment) -> list[str]:
    """Sets what `config` gives (an update keeps what it leaves out); the fields it set, as update paths."""
    if config is None:
        return []
    if not isinstance(config, dict) or config.get("type") not in ("cloud", "self_hosted"):
        raise invalid("invalid_config", 'config must be {"type": "cloud", ...} or {"type": "self_hosted"}')
    paths = []
    if config.get("networking") is not None:
        _networking(config["networking"], environment)
        paths.append("network")
    if config.get("packages") is not None:
        _packages(config["packages"], environment)
        paths += ["pip_packages", "npm_packages"]
    return paths


def apply_metadata(value: Any, environment: environment_pb2.Environment, patch: bool) -> None:
    """The metadata: replaced on create; patched on update (null removes a key). The provider key sets
    which sandbox provider the environment needs."""
    if value is None:
        return
    allowed = (str, type(None)) if patch else (str,)
    if not isinstance(value, dict) or not all(isinstance(v, allowed) for v in value.values()):
        raise invalid("invalid_metadata", "metadata must be an object of strings")
    for key, item in value.items():
        if key == PROVIDER_KEY:
            environment.sandbox_provider = item or ""
        elif item is None:
            environment.metadata.pop(key, None)
        else:
            environment.metadata[key] = item


def _networking_json(environment: environment_pb2.Environment) -> dict[str, Any]:
    hosts = list(environment.network.allowed_hosts)
    if ANY_PUBLIC_HOST in hosts:
        return {"type": "unrestricted"}
    return {"type": "limited", "allowed_hosts": hosts, "allow_mcp_servers": False, "allow_package_managers": False}


def environment_json(environment: environment_pb2.Environment) -> dict[str, Any]:
    metadata = dict(environment.metadata)
    if environment.sandbox_provider:
        metadata[PROVIDER_KEY] = environment.sandbox_provider
    packages = {"type": "packages", **{manager: [] for manager in NOT_INSTALLED}}
    packages |= {"pip": list(environment.pip_packages), "npm": list(environment.npm_packages)}
    return {
        "id": environment.environment_id,
        "type": "environment",
        "name": environment.name,
        "description": environment.description or None,
        "config": {"type": "cloud", "networking": _networking_json(environment), "packages": packages},
        "metadata": metadata,
        "scope": "organization",
        "created_at": rfc3339(environment.created_at) or EPOCH,
        "updated_at": rfc3339(environment.updated_at) or EPOCH,
        "archived_at": rfc3339(environment.archived_at),
    }


def default_environment_json(sandbox: str) -> dict[str, Any]:
    return {
        "id": DEFAULT_ENVIRONMENT_ID,
        "type": "environment",
        "name": f"this runtime's {sandbox} sandbox",
        "description": "Each session runs in a sandbox of its own, with its agent's settings alone.",
        "config": {"type": "self_hosted"},
        "metadata": {},
        "scope": "organization",
        "created_at": EPOCH,
        "updated_at": EPOCH,
        "archived_at": None,
    }
