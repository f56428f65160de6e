"""The Managed Agents API (/v1/agents, /v1/environments, /v1/sessions and their events), as the Anthropic
SDKs call it: a projection of the runtime's own gRPC API, called over the loopback channel with the
caller's key, so it has no session model or event log of its own."""
