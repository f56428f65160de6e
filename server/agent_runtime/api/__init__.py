"""The AgentRuntime gRPC service callers use."""
