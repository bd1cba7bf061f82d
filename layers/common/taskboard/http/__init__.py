"""HTTP glue: the validated resolver and the one error shape (app), idempotent POSTs, rate limits."""
