"""Events: the one road from what happens in a session to every stream that shows it."""
