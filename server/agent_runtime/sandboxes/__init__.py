"""Sandboxes: where agents run. One small interface (base.py), two providers (local bubblewrap, modal)."""
