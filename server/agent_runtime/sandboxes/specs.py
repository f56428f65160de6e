"""A sandbox spec from an agent profile: its environment, limits, network and dependencies."""

from __future__ import annotations

from agent_runtime._gen.agentruntime.v1 import profile_pb2
from agent_runtime.sandboxes.base import SandboxLimits, SandboxSpec


def limits_for(profile: profile_pb2.AgentProfile) -> SandboxLimits:
    """The profile's limits; each one it leaves at zero keeps the default."""
    defaults = SandboxLimits()
    given = profile.limits
    timeout = given.exec_timeout.ToTimedelta().total_seconds() if given.HasField("exec_timeout") else 0.0
    return SandboxLimits(
        memory_bytes=given.memory_bytes or defaults.memory_bytes,
        max_processes=given.max_processes or defaults.max_processes,
        cpu_seconds=given.cpu_seconds or defaults.cpu_seconds,
        file_size_bytes=given.file_size_bytes or defaults.file_size_bytes,
        exec_timeout_seconds=timeout or defaults.exec_timeout_seconds,
        disk_bytes=given.disk_bytes or defaults.disk_bytes,
        disk_inodes=given.disk_inodes or defaults.disk_inodes,
    )


def spec_for(profile: profile_pb2.AgentProfile, session_id: str, model_proxy_url: str = "") -> SandboxSpec:
    return SandboxSpec(
        session_id=session_id,
        limits=limits_for(profile),
        env=dict(profile.environment_variables),
        allowed_hosts=tuple(profile.network.allowed_hosts),
        npm_dependencies=tuple(profile.npm_dependencies),
        pip_dependencies=tuple(profile.pip_dependencies),
        profile_id=profile.id,
        model_proxy_url=model_proxy_url,
    )
