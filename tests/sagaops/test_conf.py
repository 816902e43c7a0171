"""sagaops.conf: one default per engine setting, read through `conf` everywhere in the engine."""

import re
from pathlib import Path

import pytest

import sagaops
from sagaops.conf import DEFAULTS, conf, env_setting

ENGINE = Path(sagaops.__file__).parent
PROJECT_WIRING = {"settings.py", "conf.py"}


def engine_sources():
    for path in ENGINE.rglob("*.py"):
        if path.name not in PROJECT_WIRING and "migrations" not in path.parts:
            yield path, path.read_text()


def test_a_host_without_the_setting_gets_the_default(settings):
    del settings.SAGAOPS_STUCK_AFTER
    assert conf.SAGAOPS_STUCK_AFTER == DEFAULTS["SAGAOPS_STUCK_AFTER"] == 300


def test_the_hosts_setting_wins(settings):
    settings.SAGAOPS_STUCK_AFTER = 7
    assert conf.SAGAOPS_STUCK_AFTER == 7


def test_an_unknown_name_is_refused():
    with pytest.raises(AttributeError, match="SAGAOPS_NOPE is not a sagaops setting"):
        conf.SAGAOPS_NOPE  # noqa: B018


def test_redis_url_falls_back_to_the_hosts_redis_url(settings):
    settings.SAGAOPS_REDIS_URL = ""
    settings.REDIS_URL = "redis://example:6379/3"
    assert conf.redis_url == "redis://example:6379/3"
    settings.SAGAOPS_REDIS_URL = "redis://other:6379/2"
    assert conf.redis_url == "redis://other:6379/2"
    del settings.REDIS_URL
    settings.SAGAOPS_REDIS_URL = ""
    assert conf.redis_url == "redis://127.0.0.1:6379/1"


def test_env_setting_parses_like_the_default():
    env = {"SAGAOPS_START_GRACE": "2.5", "SAGAOPS_SAGA_MODULES": "a.b, c", "SAGAOPS_FAULTS_FROM_REDIS": "yes"}
    assert env_setting("SAGAOPS_START_GRACE", environ=env) == 2.5
    assert env_setting("SAGAOPS_SAGA_MODULES", environ=env) == ["a.b", "c"]
    assert env_setting("SAGAOPS_FAULTS_FROM_REDIS", environ=env) is True
    assert env_setting("SAGAOPS_TICK_BATCH", environ=env) == 500
    with pytest.raises(ValueError, match="SAGAOPS_TICK_BATCH='many' is not a valid int"):
        env_setting("SAGAOPS_TICK_BATCH", environ={"SAGAOPS_TICK_BATCH": "many"})


def test_every_setting_the_engine_reads_has_a_default():
    read = set()
    for _, text in engine_sources():
        read |= set(re.findall(r"conf\.(SAGAOPS_[A-Z_]+)", text))
    assert read - DEFAULTS.keys() == set()


def test_the_engine_reads_its_settings_only_through_conf():
    direct = [
        str(path.relative_to(ENGINE))
        for path, text in engine_sources()
        if re.search(r"settings\.(SAGAOPS_|REDIS_URL)|getattr\(settings", text)
    ]
    assert direct == []
