"""Accounts: identity, API keys and registration tokens, owners, the agent directory."""
