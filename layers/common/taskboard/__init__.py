"""Agent Task Board: the domain shared by every function (models, lifecycle rules, storage, auth, HTTP glue)."""
