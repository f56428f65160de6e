"""The model proxy: the only way a sandbox reaches a model; it holds the real keys."""
