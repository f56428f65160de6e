"""Agents: the architectures that turn a message into work in the sandbox, and their parsers."""
