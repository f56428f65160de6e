"""What the runtime's log says as it starts: a warning for each model key it lacks, naming the
architectures whose turns will be refused."""

from __future__ import annotations

from tests.integration.conftest import Runtime


def test_a_runtime_without_model_keys_says_which_turns_it_will_refuse(runtime: Runtime) -> None:
    logged = runtime.process.text()
    assert "ANTHROPIC_API_KEY is not set: turns of anthropic, claude-agent-sdk will be refused" in logged
    assert "GEMINI_API_KEY is not set: turns of gemini-cli will be refused" in logged
