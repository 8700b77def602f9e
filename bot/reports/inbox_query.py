"""What a supervisor types after /inbox, read into a query: status and category words in Chinese or
English, `单位:` / `unit:` for a unit or place, `搜索:` / `search:` (or a quoted phrase) for words in
the report. A word that means nothing is not guessed at: the answer lists the words that work.

    /inbox 不予受理                    /inbox rejected
    /inbox 待受理 类别:文山会海          /inbox new category:meetings
    /inbox 单位:城关镇 搜索:打卡         /inbox unit:town search:"check in"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

STATUS_WORDS = {
    "active": ("active", "处理中", "未办结", "进行中"),
    "new": ("new", "新", "新举报", "待受理"),
    "open": ("open", "已受理", "办理中"),
    "waiting": ("waiting", "待回复", "等待回复", "待举报人回复"),
    "closed": ("closed", "已办结", "办结"),
    "rejected": ("rejected", "不予受理", "已驳回", "驳回"),  # 不予受理: how the status reads
    "all": ("all", "全部", "所有"),
}
FIELD_WORDS = {
    "category": ("category", "类别", "分类"),
    "unit": ("unit", "单位", "地点"),
    "text": ("search", "text", "搜索", "查找", "内容"),
}
FIELD_PREFIXES = {"zh": ["类别:", "单位:", "搜索:"], "en": ["category:", "unit:", "search:"]}
TOKEN = re.compile(r'[^\s"“]*(?:“[^”]*”|"[^"]*")|\S+')  # a word, or a quoted phrase (after a prefix too)
QUOTES = '"“”'


@dataclass(frozen=True)
class InboxQuery:
    status: str = "active"
    category: str | None = None
    unit: str | None = None
    text: str | None = None

    @property
    def searching(self) -> bool:
        return bool(self.unit or self.text)


@dataclass
class QueryProblem:
    """Why the words could not be read: unknown words, or a category word that fits several."""

    unknown: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # word -> category ids it fits


def parse(words: str, categories: Mapping[str, list[str]]) -> InboxQuery | QueryProblem:
    """`categories`: each category id with its labels (every language)."""
    status, values, problem = "active", {}, QueryProblem()
    for token in TOKEN.findall(words):
        name, value = _field(token)
        if name is None and token[0] in QUOTES:  # a quoted phrase alone: words in the report
            name, value = "text", token.strip(QUOTES)
        if name is not None:
            if name == "category":
                value = _category(value, categories, problem)
            if value:
                values[name] = value
            continue
        word = token.casefold()
        if (found := next((key for key, names in STATUS_WORDS.items() if word in names), None)) is not None:
            status = found
        elif (category := _category(token, categories, problem, exact=True)) is not None:
            values["category"] = category
        elif token not in problem.ambiguous:
            problem.unknown.append(token)
    if problem.unknown or problem.ambiguous:
        return problem
    return InboxQuery(status=status, **values)


def _field(token: str) -> tuple[str | None, str]:
    """("unit", "城关镇") for 单位:城关镇 or unit：城关镇; (None, "") for a bare word."""
    head, colon, value = token.replace("：", ":").partition(":")
    if not colon:
        return None, ""
    name = next((key for key, names in FIELD_WORDS.items() if head.casefold() in names), None)
    return name, value.strip(QUOTES).strip()


def _category(word: str, categories: Mapping[str, list[str]], problem: QueryProblem, *,
              exact: bool = False) -> str | None:
    """The category a word names: its id, a whole label, or (after 类别:) a part of one label."""
    folded = word.casefold()
    whole = [cid for cid, labels in categories.items() if folded == cid or folded in (l.casefold() for l in labels)]
    if whole or exact:
        return whole[0] if whole else None
    fits = [cid for cid, labels in categories.items() if any(folded in label.casefold() for label in labels)]
    if len(fits) == 1:
        return fits[0]
    if fits:
        problem.ambiguous[word] = fits
    else:
        problem.unknown.append(word)
    return None


def known_words(language: str) -> list[str]:
    """The status words and field prefixes to show when a word was not understood."""
    pick = 1 if language == "zh" else 0
    return [names[pick] for names in STATUS_WORDS.values()] + FIELD_PREFIXES[language if language == "zh" else "en"]
