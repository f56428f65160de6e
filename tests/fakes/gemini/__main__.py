"""`python -m tests.fakes.gemini --port 9998 --script demo.yaml`: see tests.fakes.standalone."""

from tests.fakes.gemini.script import Fault, Turn
from tests.fakes.gemini.server import FakeGemini
from tests.fakes.standalone import Vendor, main

main(
    Vendor(
        name="gemini",
        make=lambda port: FakeGemini(port=port),
        text=Turn.text,
        tool=Turn.function_call,
        fault=lambda name: getattr(Fault, name)(),
        variables=lambda fake: f"GOOGLE_GEMINI_BASE_URL={fake.base_url} GEMINI_API_KEY={fake.api_key}",
    )
)
