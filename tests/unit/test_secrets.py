"""Which names are secret, and masking known secret values in text."""

from __future__ import annotations

import pytest

from tui_scheduler.core.secrets import (
    MASK,
    is_secret_name,
    mask_mapping,
    mask_values,
    restore_masked,
    secret_values,
)

SECRET = ["API_TOKEN", "GITHUB_TOKEN", "DB_PASSWORD", "MYSQL_PASSWD", "AWS_SECRET_ACCESS_KEY",
          "API_KEY", "APIKEY", "apiKey", "SSH_KEYS", "KEY", "KEY_ID", "DB_PASS", "SMTP_PASS",
          "PASS", "dbPass", "db.pass", "GPG_PASSPHRASE", "PGPWD", "MYSQL_PWD", "pwd",
          "GOOGLE_APPLICATION_CREDENTIALS", "credential", "PRIVATE_KEY_PEM", "privateThing",
          "client_secret", "PIN_PASSCODE"]
PLAIN = ["MODE", "HOME", "PATH", "KEYBOARD_LAYOUT", "KEYCLOAK_URL", "PASSTHROUGH", "BYPASS",
         "COMPASS_DIR", "PASSENGER_COUNT", "region", "DBPASS", "author"]


@pytest.mark.parametrize("name", SECRET)
def test_secret_looking_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", PLAIN)
def test_plain_names(name):
    assert not is_secret_name(name)
    assert is_secret_name(name, marked=[name])


def test_mask_mapping_and_restore():
    shown = mask_mapping({"API_TOKEN": "t0k3n", "MODE": "x", "n": 5}, marked=["n"])
    assert shown == {"API_TOKEN": MASK, "MODE": "x", "n": MASK}
    back, missing = restore_masked({**shown, "NEW_TOKEN": MASK}, {"API_TOKEN": "t0k3n",
                                                                 "n": 5}, ["n"])
    assert back == {"API_TOKEN": "t0k3n", "MODE": "x", "n": 5, "NEW_TOKEN": MASK}
    assert missing == ["NEW_TOKEN"]


def test_secret_values_skip_short_and_split_lines():
    values = secret_values({"API_TOKEN": "abcdef", "SHORT_KEY": "abc", "MODE": "longvalue"},
                           {"cfg": {"a": 1}, "pem": "-----BEGIN-----\nQUJDREVGR0g=\nxy"},
                           ["cfg", "pem"])
    assert "abc" not in values and "longvalue" not in values and "xy" not in values
    assert {"abcdef", '{"a": 1}', "QUJDREVGR0g="} <= set(values)


def test_mask_values_longest_first():
    text = "a=hunter22 b=hunter2222 c=abc"
    assert mask_values(text, ["hunter22", "hunter2222"]) == f"a={MASK} b={MASK} c=abc"
    assert mask_values(text, []) == text


def test_a_mark_matches_names_in_any_case():
    # Env names are case-sensitive, but a mark that matches no name in the same case is
    # a slip of the shift key: masking more is the safe direction.
    assert is_secret_name("custom2", marked=["CUSTOM2"])
    assert is_secret_name("Region", marked=["rEGION"])
    assert mask_mapping({"custom2": "v", "mode": "m"}, marked=["CUSTOM2"]) == \
        {"custom2": MASK, "mode": "m"}
    assert secret_values({"custom2": "clear-value"}, {"Opaque": "param-value"},
                         ["CUSTOM2", "opaque"]) == ["clear-value", "param-value"]
    back, missing = restore_masked({"custom2": MASK}, {"custom2": "kept"}, ["CUSTOM2"])
    assert back == {"custom2": "kept"} and missing == []
