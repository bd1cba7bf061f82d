"""The foundations every domain stands on: clock, errors, settings, limits, AWS clients, item keys and codec,
JSON values, display fields and schema checks. Nothing here imports a domain."""
