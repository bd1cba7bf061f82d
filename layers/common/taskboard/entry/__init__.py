"""Lambda entries that are not HTTP endpoints: what a state machine, a stream or a queue invokes."""
