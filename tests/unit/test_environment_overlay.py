"""A session's sandbox spec: its profile's settings with its environment's laid over them."""

from __future__ import annotations

from google.protobuf import duration_pb2

from agent_runtime._gen.agentruntime.v1 import environment_pb2, profile_pb2
from agent_runtime.catalog.environment_overlay import with_environment
from agent_runtime.sandboxes.specs import spec_for

GIB = 1 << 30


def test_packages_and_hosts_are_added_and_each_limit_set_replaces_the_profiles() -> None:
    profile = profile_pb2.AgentProfile(
        id="coder",
        pip_dependencies=["requests"],
        network=profile_pb2.NetworkPolicy(allowed_hosts=["api.example.com"]),
        limits=profile_pb2.SandboxLimits(memory_bytes=GIB, exec_timeout=duration_pb2.Duration(seconds=30)),
    )
    environment = environment_pb2.Environment(
        pip_packages=["pandas", "requests"],
        npm_packages=["left-pad"],
        network=profile_pb2.NetworkPolicy(allowed_hosts=["*"]),
        limits=profile_pb2.SandboxLimits(memory_bytes=2 * GIB, max_processes=64),
    )

    spec = spec_for(with_environment(profile, environment), "session-1")

    assert spec.pip_dependencies == ("requests", "pandas")
    assert spec.npm_dependencies == ("left-pad",)
    assert spec.allowed_hosts == ("api.example.com", "*")
    assert (spec.limits.memory_bytes, spec.limits.max_processes) == (2 * GIB, 64)
    assert spec.limits.exec_timeout_seconds == 30, "a limit the environment leaves unset is the profile's"
    assert list(profile.pip_dependencies) == ["requests"], "the profile itself is not changed"
