"""Texts of the config page (``config.*``) and of the generated settings form (``form.*``,
static/js/schema_form.js, also used by the session override editor)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "config.intro": (
        "在这里保存的修改会立即生效，插件不会重载，会话与计划也不受影响。"
        "也可以在 AstrBot 控制台的插件配置中修改（那里保存会重载插件）。"
    ),
    "config.form_label": "插件配置",
    "config.save": "保存并应用",
    "config.revert": "放弃修改",
    "config.dirty": "有未保存的修改",
    "config.clean": "所有修改均已保存",
    "config.diff_label": "与默认值的差异",
    "config.diff_none": "所有设置均为默认值。",
    "config.diff_count": "{n} 项设置与默认值不同",
    "config.diff_count.one": "{n} 项设置与默认值不同",
    "config.diff_item": "{label}：{from} → {to}",
    "config.not_default": "非默认",
    "config.nothing_to_save": "没有需要保存的修改。",
    "config.invalid": "请先修改标出的设置（{n} 处）。",
    "config.remote_changed": "配置已在别处（另一个标签页或 AstrBot 控制台）被修改。",
    "config.remote_reload": "载入新配置",
    "config.remote_keep": "继续编辑",
    "config.remote_loaded": "已载入最新配置。",
    "config.leave_warning": "有未保存的修改，确定离开吗？",
    "config.shortcut": "快捷键：Ctrl+S / ⌘S 保存",
    "config.sections": "配置分区",
    "config.web_admin_note": (
        "管理面板的设置（地址、端口、密码等）只能在 AstrBot 控制台的插件配置中修改："
        "修改它们需要重启面板，而在这里保存会断开当前页面。"
    ),
    "config.web_admin_password": "登录密码",
    "config.password_set": "已设置（不显示）",
    "config.password_unset": "未设置（首次启动时生成）",
    "config.no_config": "无法读取配置：{problem}",
    "config.engine_down": "引擎未运行：{problem}。仍可保存配置，引擎启动后生效。",
    "form.changed": "已修改",
    "form.override": "单独设置",
    "form.reset_to": "恢复为 {value}",
    "form.not_integer": "请输入整数。",
    "form.range": "请输入 {min} 到 {max} 之间的整数。",
}

EN: dict[str, str] = {
    "config.intro": (
        "Changes saved here apply at once: the plugin is not reloaded, sessions and plans "
        "carry on. The plugin config in AstrBot's dashboard works too (saving there reloads "
        "the plugin)."
    ),
    "config.form_label": "Plugin config",
    "config.save": "Save and apply",
    "config.revert": "Discard changes",
    "config.dirty": "Unsaved changes",
    "config.clean": "All changes saved",
    "config.diff_label": "Differences from the defaults",
    "config.diff_none": "Every setting has its default value.",
    "config.diff_count": "{n} settings differ from the defaults",
    "config.diff_count.one": "{n} setting differs from the defaults",
    "config.diff_item": "{label}: {from} → {to}",
    "config.not_default": "Not default",
    "config.nothing_to_save": "Nothing to save.",
    "config.invalid": "Fix the marked settings first ({n}).",
    "config.remote_changed": (
        "The config was changed elsewhere (another tab or AstrBot's dashboard)."
    ),
    "config.remote_reload": "Load it",
    "config.remote_keep": "Keep editing",
    "config.remote_loaded": "The latest config is loaded.",
    "config.leave_warning": "You have unsaved changes. Leave anyway?",
    "config.shortcut": "Shortcut: Ctrl+S / ⌘S saves",
    "config.sections": "Config sections",
    "config.web_admin_note": (
        "The panel's own settings (address, port, password, ...) can only be changed in the "
        "plugin config in AstrBot's dashboard: changing them restarts the panel, which a save "
        "here would cut off."
    ),
    "config.web_admin_password": "Login password",
    "config.password_set": "Set (never shown)",
    "config.password_unset": "Not set (generated at first start)",
    "config.no_config": "The config cannot be read: {problem}",
    "config.engine_down": (
        "The engine is not running: {problem}. The config can still be saved; it applies "
        "when the engine starts."
    ),
    "form.changed": "Changed",
    "form.override": "Override",
    "form.reset_to": "Back to {value}",
    "form.not_integer": "Enter a whole number.",
    "form.range": "Enter a whole number from {min} to {max}.",
}

# Keys the page's script reads (shipped as JSON in every page).
JS_KEYS: tuple[str, ...] = (
    "config.dirty",
    "config.clean",
    "config.diff_none",
    "config.diff_count",
    "config.diff_item",
    "config.not_default",
    "config.nothing_to_save",
    "config.invalid",
    "config.remote_loaded",
    "config.leave_warning",
    "form.changed",
    "form.override",
    "form.reset_to",
    "form.not_integer",
    "form.range",
)
