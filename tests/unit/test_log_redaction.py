"""``strip_ansi`` and ``Redactor``: secrets masked, ordinary text left alone."""

from __future__ import annotations

import pytest

from proactive_chat.core.logs.redaction import MASK, Redactor, strip_ansi


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


# --- strip_ansi -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[32mINFO\x1b[0m ready", "INFO ready"),
        ("\x1b[1;31mERROR\x1b[0m", "ERROR"),
        ("\x1b[38;5;208morange\x1b[39m", "orange"),
        ("\x1b[38;2;10;20;30mrgb\x1b[0m", "rgb"),
        ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),
        ("\x1b[2K\x1b[1Gline", "line"),
        ("before\x1bMafter", "beforeafter"),
        ("[12:00:01] 普通日志 \x1b[33m警告\x1b[0m", "[12:00:01] 普通日志 警告"),
    ],
)
def test_strip_ansi_removes_escape_sequences(raw, clean):
    assert strip_ansi(raw) == clean


def test_strip_ansi_returns_plain_text_unchanged_and_same_object():
    text = "no escapes [32m here"
    assert strip_ansi(text) is text


# --- key = value ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("password=hunter2 user=bob", "password=*** user=bob"),
        ("PASSWORD=Hunter2", "PASSWORD=***"),
        ("login password: hunter2", "login password: ***"),
        ("db_passwd = s3cr3t;", "db_passwd = ***;"),
        ("pwd=abc", "pwd=***"),
        ("passphrase: open-sesame", "passphrase: ***"),
        ("secret_key = 'xyz789' ok", "secret_key = '***' ok"),
        ("client_secret=abc123&x=1", "client_secret=***&x=1"),
        ("access_token: abcdef", "access_token: ***"),
        ("token=abc&user=1", "token=***&user=1"),
        ("https://api.x.com/v1?token=abcdef&x=1", "https://api.x.com/v1?token=***&x=1"),
        ("api_key=abc123 next", "api_key=*** next"),
        ("apikey=abc123", "apikey=***"),
        ("api-key: abc123", "api-key: ***"),
        ("X-Api-Key: abcd1234", "X-Api-Key: ***"),
        ("access_key=AKIA1234", "access_key=***"),
        ("private-key: MIIEv", "private-key: ***"),
        ("session_id: 42abc", "session_id: ***"),
        ("sessionid=abcdef", "sessionid=***"),
        ('{"api_key": "abc123xyz", "model": "gpt"}', '{"api_key": "***", "model": "gpt"}'),
        ("{'password': 'hunter2', 'user': 'a'}", "{'password': '***', 'user': 'a'}"),
        ('"token":"t0k3n"}', '"token":"***"}'),
    ],
)
def test_key_value_secrets_are_masked(redactor, raw, masked):
    assert redactor.redact(raw) == masked


def test_bare_key_assignment_is_masked(redactor):
    # AstrBot's provider configs name their API keys just "key".
    assert redactor.redact("key=zhipu0123456789.abcdefgh") == "key=***"


def test_key_list_value_is_masked(redactor):
    # AstrBot provider configs hold their keys in a list: {"key": ["..."]}.
    out = redactor.redact("{'api_key': ['abcdef123456'], 'model': 'glm-4'}")
    assert "abcdef123456" not in out
    assert out.endswith("'model': 'glm-4'}")


def test_quoted_value_with_spaces_is_masked_whole(redactor):
    out = redactor.redact('{"password": "correct horse battery staple", "user": "a"}')
    assert out == '{"password": "***", "user": "a"}'


def test_already_masked_value_is_left_as_is(redactor):
    assert redactor.redact("password=***") == "password=***"
    assert redactor.redact('"token": "***"') == '"token": "***"'


# --- bearer / basic, key shapes, URLs, cookies ---------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("Authorization: Bearer abcdefghijklmnop", "Authorization: ***"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: ***"),
        ("headers={'Authorization': 'Bearer abcdefgh12345'}", "headers={'Authorization': '***'}"),
        ("sent Bearer abcdefgh.ijk-lmn_op to server", "sent Bearer *** to server"),
        ("basic dXNlcjpwYXNzd29yZA== ok", "basic *** ok"),
    ],
)
def test_bearer_and_basic_credentials_are_masked(redactor, raw, masked):
    assert redactor.redact(raw) == masked


def test_short_bearer_word_without_header_is_not_masked(redactor):
    assert redactor.redact("Bearer of bad news") == "Bearer of bad news"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("OPENAI key sk-abcdefghijklmnopqrstuvwx used", "OPENAI key *** used"),
        ("sk-proj-abcdefghijklmnop1234", "***"),
        ("using sk-ant-api03-abcdefghijklmnop", "using ***"),
        ("google AIzaSyA1234567890abcdefghijklmnopqrstuv end", "google *** end"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "***"),
        ("slack xoxb-1234567890-abcdef", "slack ***"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk", "jwt ***"),
    ],
)
def test_well_known_key_shapes_are_masked(redactor, raw, masked):
    assert redactor.redact(raw) == masked


def test_short_sk_prefix_is_not_a_key(redactor):
    assert redactor.redact("task-sk-abc done") == "task-sk-abc done"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (
            "connecting to postgres://user:pa55w0rd@db.local:5432/x",
            "connecting to postgres://user:***@db.local:5432/x",
        ),
        ("proxy http://bob:Secr3t!@10.0.0.1:3128", "proxy http://bob:***@10.0.0.1:3128"),
        ("redis://:onlypass@cache:6379/0", "redis://:***@cache:6379/0"),
    ],
)
def test_url_credentials(redactor, raw, masked):
    assert redactor.redact(raw) == masked


def test_url_without_credentials_is_unchanged(redactor):
    line = "GET http://127.0.0.1:4100/api/logs?since=10 200"
    assert redactor.redact(line) == line


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("Cookie: pc_session=abc.def; other=1", "Cookie: ***; other=1"),
        ("Set-Cookie: pc_session=abc.def; Path=/", "Set-Cookie: ***; Path=/"),
    ],
)
def test_cookies_are_masked(redactor, raw, masked):
    assert redactor.redact(raw) == masked


# --- exact registered secrets --------------------------------------------------------


def test_registered_secret_is_masked_anywhere(redactor):
    redactor.add_secret("hunter2")
    assert redactor.redact("the word hunter2 appears, xhunter2x too") == (
        "the word *** appears, x***x too"
    )


def test_registered_secrets_longest_first(redactor):
    redactor.add_secret("hunter2")
    redactor.add_secret("hunter2-long")
    redactor.add_secret("long")
    assert redactor.redact("a hunter2-long b hunter2 c long") == "a *** b *** c ***"


def test_registered_secret_with_regex_metacharacters(redactor):
    redactor.add_secret("a+b(c)*[d]")
    assert redactor.redact("x a+b(c)*[d] y aab y") == "x *** y aab y"


@pytest.mark.parametrize("short", ["", "a", "ab", "abc"])
def test_too_short_secrets_are_ignored(redactor, short):
    redactor.add_secret(short)
    assert redactor.redact("abc is a word") == "abc is a word"


def test_adding_same_secret_twice_is_harmless(redactor):
    redactor.add_secret("hunter2")
    redactor.add_secret("hunter2")
    assert redactor.redact("hunter2 hunter2") == "*** ***"


def test_registered_secret_with_key_is_masked_once(redactor):
    redactor.add_secret("hunter2")
    assert redactor.redact("password=hunter2 done") == "password=*** done"


def test_generated_password_shape_is_masked(redactor):
    generated = "Zb1v_Q9-kLp3mN0xYt7rWq2e"
    redactor.add_secret(generated)
    line = f"[ProactiveChat] generated password / 密码: {generated}  (shown only this once)"
    assert redactor.redact(line) == (
        "[ProactiveChat] generated password / 密码: ***  (shown only this once)"
    )


# --- clean = strip_ansi + redact -----------------------------------------------------


def test_clean_strips_ansi_before_redacting(redactor):
    redactor.add_secret("hunter2")
    # The colour codes split the secret; it must still be found.
    assert redactor.clean("\x1b[32mhun\x1b[0mter2 and \x1b[1mpassword=x\x1b[0m") == (
        "*** and password=***"
    )


def test_clean_leaves_plain_line_unchanged(redactor):
    line = "[Core] [INFO] 插件 astrbot_plugin_proactive_chat 已加载"
    assert redactor.clean(line) == line


# --- ordinary text is not mangled -------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "session_hours=24",
        "tokenizer loaded",
        "Tokenizer ready in 2 ms",
        "tokens used: 1234",
        "请输入密码 password 然后继续",
        "你好，世界！今天天气很好。",
        "The password is wrong",
        "password reset requested",
        "Wrong password. / 密码错误。",
        "password:",
        "set password to ''",
        "monkey=banana",
        "hotkey: ctrl+k",
        "keys: 3 loaded",
        "keyboard=us",
        "log_buffer_size=2000 port=4100 host=127.0.0.1",
        "[ProactiveChat] next trigger in 3600 s for aiocqhttp:GroupMessage:123",
        "GET /api/logs?since=41&level=INFO 200",
        "UMO webchat:FriendMessage:alice",
        "x" * 5000,
    ],
)
def test_ordinary_text_is_unchanged(redactor, line):
    assert redactor.clean(line) == line
    assert MASK not in redactor.clean(line)


@pytest.mark.parametrize(
    "line",
    [
        "max_tokens=4096",
        "LLM request: model=gpt-4o, max_tokens=1024, temperature=0.7",
        "usage: prompt_tokens: 120, completion_tokens: 33",
        "token_count=55",
        "passwords: 3 stored",
        "Tokenizer: cl100k_base",
    ],
)
def test_token_counts_and_similar_names_are_not_masked(redactor, line):
    # Names that merely contain "token"/"password" are not secrets: max_tokens is in
    # nearly every LLM log line of this bot.
    assert redactor.clean(line) == line
