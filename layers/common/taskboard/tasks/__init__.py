"""Tasks: the lifecycle rules, the search, the store, the service, and the timers."""
