"""The embedded default: one bubblewrap sandbox per session, on this machine."""
