"""Bounds on what a JSON body may cost to parse. Turning JSON into protobuf takes microseconds per value
of a google.protobuf.Struct (pure Python, holding the GIL: 20 million values took 55 s), and parsing JSON
itself is paid per token, so a body of tens of MiB of small values would hold every other caller up, even
on a thread. A large legitimate body is a few long strings (files, a message), so both bounds sit far above
what one needs: the separators in the raw body before it is parsed, and each Struct's size as JSON before
it is converted (the limit validation gives metadata, the only Struct a request carries)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import descriptor

from agent_runtime.rest.errors import RequestError
from agent_runtime.sessions.validation import MAX_METADATA_BYTES

# A message of 1 MiB of commas and a thousand file paths full of them stay under it.
MAX_SEPARATORS = 2_500_000
STRUCT_TYPES = ("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue")


def check_separators(raw: bytes) -> None:
    """Counted with bytes.count, which takes milliseconds for the largest body the shim reads."""
    if raw.count(b",") > MAX_SEPARATORS:
        raise RequestError("BODY_TOO_COSTLY", f"the body holds more than {MAX_SEPARATORS} JSON values", 413)


def check_struct_sizes(document: dict[str, Any], message: descriptor.Descriptor, path: str = "") -> None:
    by_json_name = {field.json_name: field for field in message.fields}
    for key, value in document.items():
        field = message.fields_by_name.get(key) or by_json_name.get(key)
        if field is None or field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        kind = field.message_type
        name = f"{path}{field.name}"
        if kind.full_name in STRUCT_TYPES:
            size = len(json.dumps(value, separators=(",", ":")).encode())
            if size > MAX_METADATA_BYTES:
                limit = MAX_METADATA_BYTES
                raise RequestError("FIELD_TOO_LONG", f"{name} is {size} bytes as JSON; the limit is {limit}")
        elif not kind.full_name.startswith("google."):
            for inner in value if isinstance(value, list) else [value]:
                if isinstance(inner, dict):
                    check_struct_sizes(inner, kind, f"{name}.")
