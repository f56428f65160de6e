"""How the replicas of a fleet hear of each other's work: nothing to hear for one runtime, NATS for a fleet."""
