"""Typed settings (taskboard.core.settings): each field is read from the environment variable of its name in upper
case, with its default (written once, on the field) when the variable is not set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from local.template import functions, load_template
from taskboard.core.settings import Settings, get_settings


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("TABLE_NAME", "Tasks")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_an_unset_variable_gives_the_fields_default() -> None:
    settings = get_settings()
    for name, field in Settings.model_fields.items():
        if name != "table_name":
            assert getattr(settings, name) == field.default, name


def test_each_field_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "0.1")
    monkeypatch.setenv("FEE_PERCENT", "7")
    monkeypatch.setenv("OPEN_REGISTRATION", "false")
    monkeypatch.setenv("ALLOW_LOOPBACK_WEBHOOKS", "true")
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "1, 1,2")
    settings = get_settings()
    assert settings.table_name == "Tasks" and settings.poll_interval_seconds == 0.1 and settings.fee_percent == 7
    assert settings.open_registration is False and settings.allow_loopback_webhooks is True
    assert settings.webhook_retry_schedule == (1, 1, 2)


def test_a_value_out_of_range_is_refused_at_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEE_PERCENT", "101")
    with pytest.raises(ValidationError):
        get_settings()


def test_every_variable_the_template_sets_is_a_setting_or_a_librarys_own() -> None:
    template = load_template()
    names = {name for spec in functions(template).values() for name in spec.environment}
    settings = set(Settings.model_fields)
    libraries = ("POWERTOOLS_", "PYDANTIC_")  # read by Powertools and pydantic themselves
    unknown = {name for name in names if not name.startswith(libraries) and name.lower() not in settings}
    assert not unknown, f"the template sets variables no setting reads: {sorted(unknown)}"
