"""The image a profile's sandboxes run: Debian slim, Node, the agent CLIs and the profile's packages.

Only the definition is built here; Modal builds (or finds it already built) when the first sandbox
needs it, and reuses it for every later one with the same definition.
"""

from __future__ import annotations

import shlex

import modal

from agent_runtime.sandboxes.base import WORKSPACE, SandboxSpec

PYTHON_VERSION = "3.12"
NODE_MAJOR = 22
AGENT_CLIS = ("@anthropic-ai/claude-code", "@google/gemini-cli")
# Where `npm install -g` puts packages on Debian; on NODE_PATH so that code in the workspace can
# `require` the profile's npm dependencies too, not only run their commands.
GLOBAL_NODE_MODULES = "/usr/lib/node_modules"


def image_for(spec: SandboxSpec) -> modal.Image:
    npm_packages = " ".join(shlex.quote(package) for package in (*AGENT_CLIS, *spec.npm_dependencies))
    image = (
        modal.Image.debian_slim(python_version=PYTHON_VERSION)
        .apt_install("ca-certificates", "curl", "git", "gnupg")
        .run_commands(
            f"curl -fsSL https://deb.nodesource.com/setup_{NODE_MAJOR}.x | bash -",
            "apt-get install -y nodejs",
            f"npm install -g {npm_packages}",
        )
        .env({"NODE_PATH": GLOBAL_NODE_MODULES})
    )
    if spec.pip_dependencies:
        image = image.pip_install(*spec.pip_dependencies)
    return image.workdir(WORKSPACE)
