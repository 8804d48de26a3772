"""Chinese for the command line's own words: usage errors, help panels, the help option.

Typer (with its vendored click) writes its usage errors and help in English ("No such command",
"Invalid value for '--port'", "Show this message and exit."). ``install`` replaces the panel
titles and the error printer of ``typer.rich_utils`` and the help option's text, so a person
reads Chinese throughout; the exit status of a usage error stays 2.
"""

from __future__ import annotations

import re
from typing import Any

HELP_TEXT = "显示本帮助并退出。"

_USAGE_WORDS = [("Usage: ", "用法："), ("Usage:", "用法："), ("[OPTIONS]", "[选项]"), ("COMMAND", "命令"), ("[ARGS]...", "[参数]...")]

#: Messages of the value checks (typer's and click's), English → Chinese, by pattern.
_DETAILS = [
    (re.compile(r"Input should be a valid integer.*"), "应为整数。"),
    (re.compile(r"Input should be a valid number.*"), "应为数字。"),
    (re.compile(r"Input should be a valid boolean.*"), "应为是/否（true/false）。"),
    (re.compile(r"Input should be greater than or equal to (\S+)"), r"应不小于 \1。"),
    (re.compile(r"Input should be less than or equal to (\S+)"), r"应不大于 \1。"),
    (re.compile(r"'?(.+?)'? is not a valid integer\.?"), r"「\1」不是整数。"),
    (re.compile(r"(.+?) is not in the range (.+?)\.?$"), r"\1 不在范围 \2 内。"),
    (re.compile(r"(?:File|Path|Directory|file|path|directory) '(.+?)' does not exist\.?"), r"文件「\1」不存在。"),
    (re.compile(r"'(.+?)' is not one of (.+?)\.?$"), r"「\1」不是可选值之一：\2。"),
    (re.compile(r"'(.+?)' is not (?:a valid )?(.+?)\.?$"), r"「\1」不是有效的 \2。"),
]


def _usage(text: str) -> str:
    for english, chinese in _USAGE_WORDS:
        text = text.replace(english, chinese)
    return text


def detail(message: str) -> str:
    for pattern, chinese in _DETAILS:
        if pattern.search(message):
            return pattern.sub(chinese, message, count=1)
    return message


def _suggestions(message: str) -> str:
    m = re.search(r"Did you mean (.+?)\?", message)
    if not m:
        return ""
    names = re.findall(r"'([^']+)'", m.group(1)) or [m.group(1)]
    return f"您是否要用：{'、'.join(names)}？"


def _hint(exc: Any) -> str:
    hint = getattr(exc, "param_hint", None)
    param = getattr(exc, "param", None)
    if hint is None and param is not None:
        try:
            hint = param.get_error_hint(exc.ctx)
        except TypeError:
            hint = param.get_error_hint()
    if hint is None:
        return ""
    return hint if isinstance(hint, str) else " / ".join(hint)


def message_of(exc: Any) -> str:
    """The Chinese one-line message of a click/typer usage error."""
    kind = type(exc).__name__
    raw = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if kind == "NoSuchOption":
        base = f"没有选项「{exc.option_name}」。"
        if getattr(exc, "possibilities", None):
            base += f"您是否要用：{'、'.join(sorted(exc.possibilities))}？"
        return base
    if kind == "MissingParameter":
        param = getattr(exc, "param", None)
        hint = _hint(exc)
        what = {"argument": "参数", "option": "选项"}.get(getattr(param, "param_type_name", ""), "参数")
        return f"缺少{what} {hint}。".replace("  ", " ")
    if kind in ("BadParameter",):
        hint = _hint(exc)
        return f"{hint} 的值无效：{detail(exc.message)}" if hint else f"取值无效：{detail(exc.message)}"
    m = re.match(r"No such command '(.+?)'\.", raw)
    if m:
        return f"没有命令「{m.group(1)}」。{_suggestions(raw)}"
    m = re.match(r"Invalid value for (.+?): (.*)", raw, re.S)
    if m:
        return f"{m.group(1)} 的值无效：{detail(m.group(2))}"
    if raw.startswith("Missing command"):
        return "缺少子命令。"
    m = re.match(r"Got unexpected extra arguments? \((.+)\)", raw)
    if m:
        return f"多余的参数：{m.group(1)}。"
    m = re.match(r"Option '(.+?)' requires an argument\.?", raw)
    if m:
        return f"选项「{m.group(1)}」需要一个值。"
    m = re.match(r"Option '(.+?)' does not take a value\.?", raw)
    if m:
        return f"选项「{m.group(1)}」不接受值。"
    return detail(raw) if re.search(r"[\u4e00-\u9fff]", raw) else f"用法错误：{detail(raw)}"


def format_error(exc: Any) -> None:
    """Print a usage error in Chinese on stderr (typer then exits with its exit code, 2)."""
    import sys

    if type(exc).__name__ == "NoArgsIsHelpError":
        return
    ctx = getattr(exc, "ctx", None)
    lines = []
    if ctx is not None:
        lines.append(_usage(ctx.get_usage()))
        lines.append(f"运行「{ctx.command_path} --help」查看帮助。")
    lines.append(f"错误：{message_of(exc)}")
    sys.stderr.write("\n".join(lines) + "\n")


def install() -> None:
    from typer import rich_utils
    from typer._click import core as click_core

    rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
    rich_utils.OPTIONS_PANEL_TITLE = "选项"
    rich_utils.COMMANDS_PANEL_TITLE = "命令"
    rich_utils.ERRORS_PANEL_TITLE = "错误"
    rich_utils.ABORTED_TEXT = "已中止。"
    rich_utils.DEFAULT_STRING = "[默认：{}]"
    rich_utils.ENVVAR_STRING = "[环境变量：{}]"
    rich_utils.REQUIRED_LONG_STRING = "[必填]"
    rich_utils.DEPRECATED_STRING = "（已弃用）"
    rich_utils.RICH_HELP = "运行 [blue]「{command_path} {help_option}」[/] 查看帮助。"
    rich_utils.rich_format_error = format_error
    if not getattr(rich_utils, "_beiandesk_usage", False):
        highlighter = rich_utils.highlighter

        def usage_highlighter(text: Any) -> Any:
            return highlighter(_usage(str(text)) if isinstance(text, str) else text)

        rich_utils.highlighter = usage_highlighter
        rich_utils._beiandesk_usage = True

    if not getattr(click_core.Command, "_beiandesk_help", False):
        original = click_core.Command.get_help_option

        def get_help_option(self: Any, ctx: Any) -> Any:
            option = original(self, ctx)
            if option is not None:
                option.help = HELP_TEXT
            return option

        click_core.Command.get_help_option = get_help_option  # type: ignore[method-assign]
        click_core.Command._beiandesk_help = True  # type: ignore[attr-defined]
