"""The REST shim: HTTP, JSON and server-sent events in front of the gRPC API."""
