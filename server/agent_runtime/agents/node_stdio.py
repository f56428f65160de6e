"""Blocking stdout and stderr for an agent CLI that runs on Node.

Node writes to a pipe without blocking and queues what the pipe cannot take; a CLI that ends with
process.exit() drops that queue. A Gemini CLI whose output ran ahead of its reader (a long message echoed
back) was seen ending with exit code 0 and no result line. This preload makes every write wait for the
pipe, so everything the CLI printed is in the pipe before it exits.
"""

PRELOAD_PATH = "/tmp/agent-runtime/blocking-stdio.cjs"
PRELOAD = b"for (const stream of [process.stdout, process.stderr]) stream._handle?.setBlocking?.(true);\n"
FILES = {PRELOAD_PATH: PRELOAD}
ENVIRONMENT = {"NODE_OPTIONS": f"--require={PRELOAD_PATH}"}
