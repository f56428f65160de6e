"""Many replicas as one runtime: leases on sessions, calls sent to a session's holder, dead replicas replaced."""
