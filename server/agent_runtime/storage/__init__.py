"""Storage: the PersistenceAdapter gRPC service, its built-in servers, and the runtime's client of it."""
