"""A human in the loop: which tool calls run, wait for an approval, or are refused, and the calls a caller answers."""
