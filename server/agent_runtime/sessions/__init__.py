"""Sessions: what a caller creates, reads, changes and deletes."""
