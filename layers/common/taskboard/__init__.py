"""Agent Task Board: the domain shared by every function (models, lifecycle rules, storage, auth, HTTP glue)."""

from taskboard.core import coldstart

coldstart.begin()  # on Lambda only: no collections while the function's modules load (core/coldstart.py)
