"""Chinese and English texts of the admin pages, and which of the two a request gets.

Every visible text goes through ``translator(lang)``; the keys listed in ``JS_KEYS`` are
also embedded in each page as JSON for the browser scripts (``js_strings``).
Placeholders use ``str.format`` syntax (``{n}``) on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request

from .texts import (
    config_page,
    foresight,
    habits,
    help_page,
    journal,
    overview,
    reasons,
    sessions,
    shell,
)
from .texts import serve as serve_texts

LANGUAGES = ("zh", "en")
LANG_COOKIE = "pc_lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

ZH: dict[str, str] = {
    "app.name": "主动消息",
    "app.subtitle": "Proactive Chat",
    "app.tagline": "会话安静时，由机器人主动开口。",
    "a11y.skip": "跳到主要内容",
    "nav.label": "主导航",
    "nav.logs": "实时日志",
    "lang.label": "语言",
    "lang.zh": "中文",
    "lang.en": "English",
    "lang.switch_zh": "切换到中文",
    "lang.switch_en": "Switch to English",
    "theme.toggle": "切换明暗主题",
    "theme.to_dark": "切换到深色主题",
    "theme.to_light": "切换到浅色主题",
    "auth.logout": "退出登录",
    "footer.version": "插件版本 {version}",
    "footer.astrbot": "AstrBot {version}",
    "noscript": "此页面需要启用 JavaScript。",
    "login.title": "登录",
    "login.heading": "登录管理面板",
    "login.intro": "请输入插件配置中设置的面板密码。",
    "login.password": "密码",
    "login.password_hint": "忘记密码？在 AstrBot 控制台的插件配置中设置新密码并保存即可。",
    "login.show": "显示",
    "login.hide": "隐藏",
    "login.show_password": "显示密码",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.err.empty": "请输入密码。",
    "login.err.bad_password": "密码不正确，请重试。",
    "login.err.rate_limited": "尝试次数过多，请在 {n} 秒后重试。",
    "login.err.bad_request": "请求无效，请刷新页面后重试。",
    "login.err.network": "无法连接到面板，请检查插件是否正在运行。",
    "login.err.server": "服务器出错（{status}），请稍后重试。",
    "logs.title": "实时日志",
    "logs.heading": "实时日志",
    "logs.filters": "日志筛选",
    "logs.level": "最低级别",
    "logs.scope": "范围",
    "logs.scope.plugin": "仅本插件",
    "logs.scope.all": "整个 AstrBot",
    "logs.search": "搜索",
    "logs.search_placeholder": "筛选包含此文本的行",
    "logs.actions": "日志操作",
    "logs.pause": "暂停",
    "logs.resume": "继续",
    "logs.follow": "跟随最新",
    "logs.jump": "跳到最新",
    "logs.clear": "清空",
    "logs.download": "下载",
    "logs.view_label": "日志内容",
    "logs.empty": "暂无日志。新的日志行会实时显示在这里。",
    "logs.count": "{n} 行",
    "logs.count.one": "{n} 行",
    "logs.pending": "{n} 行待显示",
    "logs.gap": "已跳过 {n} 行",
    "logs.gap_pause": "暂停缓冲已满，丢弃了 {n} 行",
    "logs.restarted": "日志流已重新开始（插件已重载）",
    "logs.plugin_tag": "本插件",
    "conn.label": "连接状态",
    "conn.connecting": "正在连接…",
    "conn.live": "实时",
    "conn.paused": "已暂停",
    "conn.reloading": "插件正在重载…",
    "conn.reconnecting": "{n} 秒后重连…",
    "conn.auth": "未获授权",
}

EN: dict[str, str] = {
    "app.name": "Proactive Chat",
    "app.subtitle": "主动消息",
    "app.tagline": "The bot speaks first when a chat goes quiet.",
    "a11y.skip": "Skip to main content",
    "nav.label": "Main",
    "nav.logs": "Live logs",
    "lang.label": "Language",
    "lang.zh": "中文",
    "lang.en": "English",
    "lang.switch_zh": "切换到中文",
    "lang.switch_en": "Switch to English",
    "theme.toggle": "Toggle light and dark theme",
    "theme.to_dark": "Switch to dark theme",
    "theme.to_light": "Switch to light theme",
    "auth.logout": "Log out",
    "footer.version": "Plugin {version}",
    "footer.astrbot": "AstrBot {version}",
    "noscript": "This page needs JavaScript.",
    "login.title": "Log in",
    "login.heading": "Log in to the admin panel",
    "login.intro": "Enter the panel password set in the plugin's config.",
    "login.password": "Password",
    "login.password_hint": (
        "Forgot it? Set a new password in the plugin's config in the AstrBot dashboard and save."
    ),
    "login.show": "Show",
    "login.hide": "Hide",
    "login.show_password": "Show password",
    "login.submit": "Log in",
    "login.busy": "Logging in…",
    "login.err.empty": "Please enter the password.",
    "login.err.bad_password": "Wrong password. Please try again.",
    "login.err.rate_limited": "Too many attempts. Try again in {n} s.",
    "login.err.bad_request": "The request was not valid. Reload the page and try again.",
    "login.err.network": "Cannot reach the panel. Is the plugin running?",
    "login.err.server": "Server error ({status}). Please try again later.",
    "logs.title": "Live logs",
    "logs.heading": "Live logs",
    "logs.filters": "Log filters",
    "logs.level": "Minimum level",
    "logs.scope": "Scope",
    "logs.scope.plugin": "This plugin only",
    "logs.scope.all": "All of AstrBot",
    "logs.search": "Search",
    "logs.search_placeholder": "Only lines containing this text",
    "logs.actions": "Log actions",
    "logs.pause": "Pause",
    "logs.resume": "Resume",
    "logs.follow": "Follow tail",
    "logs.jump": "Jump to latest",
    "logs.clear": "Clear",
    "logs.download": "Download",
    "logs.view_label": "Log lines",
    "logs.empty": "No log lines yet. New lines appear here as they happen.",
    "logs.count": "{n} lines",
    "logs.count.one": "{n} line",
    "logs.pending": "{n} waiting",
    "logs.gap": "{n} lines skipped",
    "logs.gap_pause": "Pause buffer full: {n} lines dropped",
    "logs.restarted": "Log stream restarted (the plugin was reloaded)",
    "logs.plugin_tag": "plugin",
    "conn.label": "Connection",
    "conn.connecting": "Connecting…",
    "conn.live": "Live",
    "conn.paused": "Paused",
    "conn.reloading": "Plugin reloading…",
    "conn.reconnecting": "Reconnecting in {n}s…",
    "conn.auth": "Not authorized",
}

# Each page's texts live in web/texts/<page>.py; a key belongs to one module only.
PAGE_TEXTS = (
    shell,
    reasons,
    overview,
    sessions,
    journal,
    config_page,
    help_page,
    serve_texts,
    foresight,
    habits,
)
for _module in PAGE_TEXTS:
    ZH.update(_module.ZH)
    EN.update(_module.EN)

TABLES: Mapping[str, Mapping[str, str]] = {"zh": ZH, "en": EN}

# What the browser scripts need (with their ``.one`` forms); the rest is rendered on the server.
_JS_KEYS = (
    *(key for module in PAGE_TEXTS for key in module.JS_KEYS),
    "theme.to_dark",
    "theme.to_light",
    "login.show",
    "login.hide",
    "login.busy",
    "login.submit",
    "login.err.empty",
    "login.err.bad_password",
    "login.err.rate_limited",
    "login.err.bad_request",
    "login.err.network",
    "login.err.server",
    "logs.pause",
    "logs.resume",
    "logs.count",
    "logs.pending",
    "logs.gap",
    "logs.gap_pause",
    "logs.restarted",
    "logs.plugin_tag",
    "conn.connecting",
    "conn.live",
    "conn.paused",
    "conn.reloading",
    "conn.reconnecting",
    "conn.auth",
)
JS_KEYS = tuple(k for key in _JS_KEYS for k in (key, f"{key}.one") if k == key or k in ZH)


def normalize(code: str | None) -> str | None:
    """``"zh-Hant-TW"`` -> ``"zh"``, ``"EN_us"`` -> ``"en"``, anything else -> None."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else None


def _accept_language(header: str) -> str | None:
    """The first of our languages in the browser's order of preference (q values honoured)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        lang = normalize(tag)
        if lang and quality > 0:
            ranked.append((-quality, index, lang))
    return min(ranked)[2] if ranked else None


def pick_language(request: Request) -> str:
    """Cookie ``pc_lang`` first, then Accept-Language; Chinese only when the browser prefers it."""
    return (
        normalize(request.cookies.get(LANG_COOKIE))
        or _accept_language(request.headers.get("accept-language", ""))
        or "en"
    )


def plural_key(key: str, kw: Mapping[str, object], table: Mapping[str, str]) -> str:
    """``key + ".one"`` when the count (placeholder ``n`` or ``parts``) is 1 and the table
    has that form ("1 session", not "1 sessions"); else ``key``. common.js ``tr`` mirrors it."""
    count = kw.get("n", kw.get("parts"))
    one = f"{key}.one"
    return one if count is not None and str(count) == "1" and one in table else key


def translator(lang: str) -> Callable[..., str]:
    """A ``t(key, **kw)`` for one language; an unknown key renders as itself (tests catch it)."""
    table = TABLES.get(lang, EN)

    def t(key: str, **kw: object) -> str:
        if not kw:
            return table.get(key, key)
        return table.get(plural_key(key, kw, table), key).format(**kw)

    return t


def js_strings(lang: str) -> dict[str, str]:
    """The strings the browser scripts read from ``<script type="application/json" id="i18n">``."""
    table = TABLES.get(lang, EN)
    return {key: table[key] for key in JS_KEYS}
