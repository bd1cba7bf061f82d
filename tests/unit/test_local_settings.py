"""The settings `make run` starts the local stack with: limits for one person on one machine by default."""

from __future__ import annotations

from local.server import ONE_MACHINE_LIMITS, local_environment


def test_make_run_uses_one_machine_limits_by_default() -> None:
    chosen = local_environment({})
    assert chosen == ONE_MACHINE_LIMITS
    assert int(chosen["SIGNUP_LIMIT_PER_HOUR"]) >= 50  # the README alone signs up several accounts from one address


def test_deployed_limits_asks_for_the_template_defaults() -> None:
    assert local_environment({"DEPLOYED_LIMITS": "1"}) == {}  # the stack then takes the template's parameters


def test_a_variable_set_by_the_caller_wins() -> None:
    chosen = local_environment({"SIGNUP_LIMIT_PER_HOUR": "3", "FEE_PERCENT": "0", "UNRELATED": "x"})
    assert chosen["SIGNUP_LIMIT_PER_HOUR"] == "3" and chosen["FEE_PERCENT"] == "0" and "UNRELATED" not in chosen
    assert chosen["RATE_LIMIT_PER_MINUTE"] == ONE_MACHINE_LIMITS["RATE_LIMIT_PER_MINUTE"]
