"""Every chart the bot draws, and the one CJK font policy behind them and the poster.

The font: `find_cjk_font` looks through matplotlib's font list for a font with Chinese glyphs
(Noto Sans CJK, Source Han Sans, WenQuanYi, then the Serif ones; Simplified Chinese faces
first). `check_fonts`, called once at start, says which one was found, or logs one warning
when there is none. The poster (Pillow) takes its font from the same search.

The text: a chart is described by the caller as plain data (`Chart`, `Bars`, `Series`) built
by a function of the language, `render(language, build)`. The module picks the language the
chart can be drawn in (`chart_language`: the one asked for, or English when Chinese cannot be
drawn) and only then calls `build`, so the caller writes every label with its own translator,
once, in a language that can be shown. Text that stays Chinese whatever the language (unit
names, say) is romanised to pinyin when there is no CJK font, and any character that no font
has becomes "?": a chart never shows empty boxes. Labels are shortened, and "$" is shown as
itself rather than starting matplotlib's mathtext.

The drawing: matplotlib's Agg canvas on a `matplotlib.figure.Figure`, no pyplot and no change
to matplotlib's global settings (the fonts are given to each text), so charts can be drawn in
threads side by side. The result is PNG bytes.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

NO_CJK_FONT = "No CJK font found: charts use English labels; install fonts-noto-cjk"
FALLBACK_FAMILY = "DejaVu Sans"  # shipped with matplotlib: Latin, Greek, Cyrillic, many symbols
# Family names of fonts with Chinese glyphs, best first.
CJK_FAMILIES = ("Noto Sans CJK", "Source Han Sans", "Noto Sans SC", "WenQuanYi", "Noto Serif CJK",
                "Source Han Serif", "Noto Serif SC")
# File names of such fonts, to find those that matplotlib's cached font list does not know yet.
_CJK_FILE = re.compile(r"cjk|sourcehan|wqy|wenquanyi|notosanssc|notoserifsc", re.IGNORECASE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Chinese punctuation that NFKC leaves as it is, for English text (spaces are tidied after).
_PUNCTUATION = str.maketrans({"、": ", ", "。": ". ", "《": ' "', "》": '"', "「": ' "', "」": '"', "『": ' "',
                              "』": '"', "【": " [", "】": "]", "（": " (", "）": ")", "〔": " (", "〕": ")", "・": "·"})
LABEL_WIDTH = 24  # columns; a Chinese character takes two


@dataclass(frozen=True)
class FontFile:
    """A font file, the face in it (font collections, .ttc, hold several) and its family name."""

    path: str
    index: int = 0
    family: str = ""


# ---- the font ---------------------------------------------------------------------------------

def _font_entries() -> list:
    """matplotlib's font list, with the CJK font files it has not seen added: its list is a cache
    made when matplotlib first ran, maybe before the fonts were installed."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {entry.fname for entry in manager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known and _CJK_FILE.search(Path(path).name):
            try:
                manager.addfont(path)
            except Exception as error:  # an unreadable file is skipped, like matplotlib does
                log.debug("Font %s not usable: %s", path, error)
    return list(manager.ttflist)


@cache
def _has_chinese(path: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
        return all(font.get_char_index(ord(character)) for character in "中文清风")
    except Exception:
        return False


def _score(entry, bold: bool) -> tuple:
    family = entry.name
    rank = next(n for n, prefix in enumerate(CJK_FAMILIES) if family.startswith(prefix))
    simplified = any(mark in family for mark in (" SC", "GB", "Hans", "WenQuanYi"))
    weight = entry.weight if isinstance(entry.weight, int) else (700 if "bold" in str(entry.weight) else 400)
    return (simplified, "Mono" not in family, -abs(weight - (700 if bold else 400)), -rank,
            entry.style == "normal", entry.fname, -entry.index)


@cache
def _cjk_entries() -> tuple:
    try:
        return tuple(entry for entry in _font_entries()
                     if entry.name.startswith(CJK_FAMILIES) and _has_chinese(entry.fname))
    except Exception:  # charts and posters are not worth stopping the bot for: they do without
        log.exception("The font search failed")
        return ()


@cache
def find_cjk_font(bold: bool = False) -> FontFile | None:
    """The best font with Chinese glyphs (a bold one if asked and there is one); None if none."""
    entries = _cjk_entries()
    if not entries:
        return None
    best = max(entries, key=lambda entry: _score(entry, bold))
    return FontFile(str(best.fname), best.index, best.name)


@cache
def _chart_font() -> FontFile | None:
    font = find_cjk_font()
    if font is None:
        log.warning(NO_CJK_FONT)
    return font


def check_fonts() -> FontFile | None:
    """Once at start: find the CJK font the charts use, or warn (once) that there is none."""
    font = _chart_font()
    if font is not None:
        log.info("Charts use the CJK font %s (%s)", font.family, font.path)
    return font


def reset() -> None:
    """Forget the fonts found (for tests, or after installing one)."""
    for cached in (_cjk_entries, find_cjk_font, _chart_font, _has_chinese, _coverage):
        cached.cache_clear()


def chart_language(language: str) -> str:
    """The language a chart can be drawn in: the one asked for, or English without a CJK font."""
    return language if language == "en" or _chart_font() is not None else "en"


# ---- the text ---------------------------------------------------------------------------------

@cache
def _coverage(font: FontFile | None) -> frozenset[int]:
    """The characters the chart's fonts have: the fallback font's and the CJK font's, if any."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    paths = [font_manager.findfont(FALLBACK_FAMILY)] + ([font.path] if font else [])
    return frozenset().union(*(FT2Font(path).get_charmap() for path in paths))


def romanise(text: str) -> str:
    """Chinese in pinyin, a word at a time (城关镇人民政府 → Chengguanzhen Renminzhengfu)."""
    if not _HAN.search(text):
        return text
    import jieba
    from pypinyin import lazy_pinyin

    from bot.knowledge.text import initialise_jieba

    initialise_jieba()

    def words(match: re.Match) -> str:
        romanised = " ".join("".join(lazy_pinyin(word)).capitalize() for word in jieba.lcut(match[0], HMM=False))
        before, after = match.string[:match.start()], match.string[match.end():]
        return (" " if before and before[-1].isalnum() else "") + romanised + (
            " " if after and after[0].isalnum() else "")

    return _HAN.sub(words, text)


def drawable(text: str, font: FontFile | None) -> str:
    """The text as the chart can show it with this CJK font (or none): never a missing glyph."""
    if font is None:
        text = unicodedata.normalize("NFKC", romanise(text).translate(_PUNCTUATION))
        text = re.sub(r"\s+([,.;:!?)\]])", r"\1", re.sub(r"([(\[])\s+", r"\1", " ".join(text.split())))
    covered = _coverage(font)
    return "".join(c if ord(c) in covered or c in "\n\t" else "?" for c in text)


def shorten(text: str, width: int = LABEL_WIDTH, *, middle: bool = False) -> str:
    """At most `width` columns (a Chinese character takes two), with "…" where it was cut: at the
    end, or in the middle to keep the end too (sibling units often differ only there)."""
    def columns(character: str) -> int:
        return 2 if unicodedata.east_asian_width(character) in "WF" else 1

    def fit(characters, room: int) -> list[str]:
        kept = []
        for character in characters:
            room -= columns(character)
            if room < 0:
                break
            kept.append(character)
        return kept

    text = " ".join(text.split())
    if sum(map(columns, text)) <= width:
        return text
    room = width - 1  # the "…"
    if not middle:
        return "".join(fit(text, room)).rstrip() + "…"
    tail = "".join(reversed(fit(reversed(text), room // 2))).lstrip()
    head = "".join(fit(text, room - sum(map(columns, tail)))).rstrip()
    return head + "…" + tail


# ---- what a chart shows -----------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    """One stack of bars: a value per category; one colour, or one per bar."""

    label: str
    values: Sequence[float]
    color: str | Sequence[str] | None = None


@dataclass(frozen=True)
class Bars:
    """A panel of stacked bars, one bar per category."""

    title: str
    categories: Sequence[str]
    series: Sequence[Series]
    axis_label: str = ""  # of the values
    horizontal: bool = False  # categories top to bottom, in order
    legend: bool = True
    legend_loc: str = "best"
    tick_rotation: float = 0
    tick_size: float | None = None
    width: float = 1.0  # relative to the other panels
    label_width: int = LABEL_WIDTH  # columns: categories are cut in the middle, series labels at the end


@dataclass(frozen=True)
class Chart:
    panels: Sequence[Bars]
    title: str = ""  # above all panels
    size: tuple[float, float] = (10, 6)  # inches at 100 dpi
    spacer: float = 0.0  # empty room right of the panels, relative to their widths


@dataclass(frozen=True)
class Rendered:
    png: bytes
    chart: Chart  # as drawn: in the chart's language, every text made drawable
    language: str
    font: FontFile | None = None


def render(language: str, build: Callable[[str], Chart]) -> bytes:
    """PNG bytes of the chart `build` describes in `chart_language(language)`."""
    return draw(language, build).png


def draw(language: str, build: Callable[[str], Chart]) -> Rendered:
    """`render` with what was drawn: the chart's final text, language and font."""
    font = _chart_font()
    language = chart_language(language)
    chart = _drawable_chart(build(language), font)
    return Rendered(_png(chart, font), chart, language, font)


def _drawable_chart(chart: Chart, font: FontFile | None) -> Chart:
    def text(value: str, width: int | None = None, middle: bool = False) -> str:
        value = drawable(value, font)
        return (shorten(value, width, middle=middle) if width else value).replace("$", r"\$")  # "$", not mathtext

    panels = [replace(panel, title=text(panel.title), axis_label=text(panel.axis_label),
                      categories=[text(c, panel.label_width, middle=True) for c in panel.categories],
                      series=[replace(s, label=text(s.label, panel.label_width), values=list(s.values))
                              for s in panel.series])
              for panel in chart.panels]
    return replace(chart, panels=panels, title=text(chart.title))


def _png(chart: Chart, font: FontFile | None) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    families = ([font.family] if font else []) + [FALLBACK_FAMILY]

    def props(size: float | str | None = None) -> FontProperties:
        return FontProperties(family=families, size=size)

    figure = Figure(figsize=chart.size, dpi=100)
    FigureCanvasAgg(figure)
    ratios = [panel.width for panel in chart.panels] + ([chart.spacer] if chart.spacer else [])
    grid = figure.add_gridspec(1, max(1, len(ratios)), width_ratios=ratios or None)
    for n, panel in enumerate(chart.panels):
        axes = figure.add_subplot(grid[0, n])
        axes.tick_params(labelfontfamily=families)
        positions = list(range(len(panel.categories)))
        base = [0.0] * len(positions)
        for series in panel.series:
            values = list(series.values)
            if panel.horizontal:
                axes.barh(positions, values, left=base, label=series.label, color=series.color)
            else:
                axes.bar(positions, values, bottom=base, label=series.label, color=series.color)
            base = [b + v for b, v in zip(base, values)]
        ticks = {"rotation": panel.tick_rotation, "fontproperties": props(panel.tick_size)}
        if panel.horizontal:
            axes.set_yticks(positions, panel.categories, **ticks)
            axes.invert_yaxis()
            axes.set_xlabel(panel.axis_label, fontproperties=props())
            axes.xaxis.get_major_locator().set_params(integer=True)
        else:
            axes.set_xticks(positions, panel.categories, **ticks)
            axes.set_ylabel(panel.axis_label, fontproperties=props())
            axes.yaxis.get_major_locator().set_params(integer=True)
        axes.set_title(panel.title, fontproperties=props("large"))
        if panel.legend and any(series.label for series in panel.series):
            axes.legend(prop=props(8), loc=panel.legend_loc)
    if chart.title:
        figure.suptitle(chart.title, fontproperties=props("large"))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
