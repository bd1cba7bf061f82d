"""Webhooks: subscriptions, signed deliveries through SQS, and the fan-out of events."""
