"""Agent profiles and environments: what sessions are made from, stored and versioned."""
