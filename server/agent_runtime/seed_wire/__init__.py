"""The seed's own wire: `@hhopkins/agent-runtime`'s `/api` routes and Socket.IO events, as a projection of the core."""
