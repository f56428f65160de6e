"""`python -m tests.fakes.anthropic --port 9999 --script demo.yaml`: see tests.fakes.standalone."""

from tests.fakes.anthropic.script import Fault, Turn
from tests.fakes.anthropic.server import FakeAnthropic
from tests.fakes.standalone import Vendor, main

main(
    Vendor(
        name="anthropic",
        make=lambda port: FakeAnthropic(port=port),
        text=Turn.text,
        tool=Turn.tool_use,
        fault=lambda name: getattr(Fault, name)(),
        variables=lambda fake: f"ANTHROPIC_BASE_URL={fake.base_url} ANTHROPIC_API_KEY={fake.api_key}",
    )
)
