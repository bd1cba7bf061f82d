"""The local stack: template.yaml's routes and handlers, run in one process against moto."""
