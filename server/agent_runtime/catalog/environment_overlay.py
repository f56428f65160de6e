"""A session's sandbox settings: its agent profile's, with its environment's laid over them."""

from __future__ import annotations

from collections.abc import Iterable

from agent_runtime._gen.agentruntime.v1 import environment_pb2, profile_pb2


def _joined(*lists: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))


def with_environment(
    profile: profile_pb2.AgentProfile, environment: environment_pb2.Environment
) -> profile_pb2.AgentProfile:
    """The profile with the environment's packages and hosts added, and each limit it sets replacing the
    profile's."""
    combined = profile_pb2.AgentProfile()
    combined.CopyFrom(profile)
    combined.pip_dependencies[:] = _joined(profile.pip_dependencies, environment.pip_packages)
    combined.npm_dependencies[:] = _joined(profile.npm_dependencies, environment.npm_packages)
    combined.network.allowed_hosts[:] = _joined(profile.network.allowed_hosts, environment.network.allowed_hosts)
    for field, value in environment.limits.ListFields():  # only the limits it sets
        if field.message_type is not None:
            getattr(combined.limits, field.name).CopyFrom(value)
        else:
            setattr(combined.limits, field.name, value)
    return combined
