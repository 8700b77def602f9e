"""bot/charts.py: one CJK font policy for every chart and the poster; Chinese is drawn with a CJK
font when there is one, and becomes English (never empty boxes) when there is none."""

from __future__ import annotations

import ast
import inspect
import io
import logging
import re
import warnings
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot import charts
from bot.config import DEFAULT_CATEGORIES
from bot.ledger.service import UnitSummary
from bot.reminders import digest
from bot.reports import poster, stats

ROOT = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u3400-\u9fff]")
LABELS = {language: {cid: (zh if language == "zh" else en) for cid, zh, en in DEFAULT_CATEGORIES}
          for language in ("zh", "en")}
UNITS = [UnitSummary(2, "城关镇政府", {"open": 2, "closed": 1}, 1),
         UnitSummary(6, "第一社区（东区）居民委员会综合治理办公室", {"in_progress": 1}, 0),
         UnitSummary(9, "A$B 乡", {"closed_directly": 3}, 0)]


@pytest.fixture(autouse=True)
def fresh_fonts():
    """Every test finds the fonts anew, and leaves none of what it found (or was made to find)."""
    charts.reset()
    yield
    charts.reset()


@pytest.fixture
def no_cjk_font(monkeypatch):
    """The font search finds no CJK font, as on a machine without fonts-noto-cjk."""
    monkeypatch.setattr(charts, "_font_entries", lambda: [])


@pytest.fixture
def cjk_font():
    font = charts.find_cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk; .ci/run installs it)")
    return font


def some_stats() -> stats.Stats:
    mondays = [date(2026, 3, 2) - timedelta(weeks=n) for n in range(3, -1, -1)]
    return stats.Stats(total=5, open=3, closed=2, weeks=mondays,
                       per_category={"inaction": [0, 1, 2, 0], "fingertip-formalism": [1, 0, 0, 1]},
                       median_acknowledge_days=1.5, median_close_days=None)


def chinese_chart(language: str) -> charts.Chart:
    zh = language == "zh"
    return charts.Chart([charts.Bars(title="各单位整改事项" if zh else "Items by unit",
                                     categories=[unit.unit for unit in UNITS],
                                     series=[charts.Series("未开始" if zh else "not started", [1, 2, 3])])],
                        title="整改进度" if zh else "Progress")


def texts(chart: charts.Chart) -> list[str]:
    found = [chart.title]
    for panel in chart.panels:
        found += [panel.title, panel.axis_label, *panel.categories, *(series.label for series in panel.series)]
    return [text for text in found if text]


class Drawn:
    """Every chart that reaches the PNG step, with the font it is drawn in."""

    def __init__(self, monkeypatch):
        self.charts: list[tuple[charts.Chart, charts.FontFile | None]] = []
        real = charts._png

        def spy(chart, font):
            self.charts.append((chart, font))
            return real(chart, font)

        monkeypatch.setattr(charts, "_png", spy)


def no_missing_glyphs(recorded_warnings, caplog) -> None:
    messages = [str(w.message) for w in recorded_warnings] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "missing from font" in m or "Glyph" in m], messages


# ---- with a CJK font --------------------------------------------------------------------------

def test_the_font_is_a_cjk_one_that_matplotlib_resolves(cjk_font):
    from matplotlib import font_manager

    assert cjk_font.family.startswith(charts.CJK_FAMILIES)
    assert charts.check_fonts() == cjk_font
    # matplotlib finds the very face the charts name, and it has Chinese glyphs
    resolved = font_manager.findfont(font_manager.FontProperties(family=cjk_font.family), fallback_to_default=False)
    assert (str(resolved), resolved.face_index) == (cjk_font.path, cjk_font.index)
    assert charts._has_chinese(cjk_font.path)
    # the poster's Pillow face is the same font family
    from PIL import ImageFont

    assert ImageFont.truetype(cjk_font.path, size=20, index=cjk_font.index).getname()[0] == cjk_font.family


def test_a_chart_with_chinese_labels_is_drawn_in_the_cjk_font(cjk_font, caplog):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        drawn = charts.draw("zh", chinese_chart)
    no_missing_glyphs(recorded, caplog)
    assert drawn.language == "zh" and drawn.font == cjk_font
    assert "城关镇政府" in drawn.chart.panels[0].categories and drawn.chart.title == "整改进度"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    with Image.open(io.BytesIO(drawn.png)) as image:
        assert image.format == "PNG" and image.width == 1000


def test_stats_and_digest_charts_in_chinese_have_no_missing_glyphs(cjk_font, monkeypatch, caplog):
    drawn = Drawn(monkeypatch)
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        assert stats.render_chart(some_stats(), labels=LABELS.get, language="zh").startswith(b"\x89PNG")
        assert digest.render_progress_chart(UNITS, "zh").startswith(b"\x89PNG")
    no_missing_glyphs(recorded, caplog)
    (stats_chart, font), (digest_chart, _font) = drawn.charts
    assert font == cjk_font
    assert "不担当不作为、躺平" in stats_chart.panels[0].series[0].label + stats_chart.panels[0].series[1].label
    assert all(HAN.search(category) for category in stats_chart.panels[1].categories)  # open, closed
    assert digest_chart.panels[0].categories[0] == "城关镇政府"


# ---- without one ------------------------------------------------------------------------------

def test_without_a_cjk_font_one_warning_and_english_labels(no_cjk_font, monkeypatch, caplog):
    drawn = Drawn(monkeypatch)
    caplog.set_level(logging.INFO, logger="bot.charts")
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        assert charts.check_fonts() is None
        for _ in range(2):
            result = charts.draw("zh", chinese_chart)
            stats.render_chart(some_stats(), labels=LABELS.get, language="zh")
            digest.render_progress_chart(UNITS, "zh")
    no_missing_glyphs(recorded, caplog)
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warned] == [charts.NO_CJK_FONT]
    assert result.language == "en" and result.font is None
    assert result.chart.title == "Progress" and result.chart.panels[0].title == "Items by unit"
    assert len(drawn.charts) == 6
    for chart, font in drawn.charts:
        assert font is None
        assert not [text for text in texts(chart) if HAN.search(text)], texts(chart)
    stats_chart = drawn.charts[1][0]
    assert stats_chart.panels[0].title == "Reports per category per week"
    assert {series.label for series in stats_chart.panels[0].series} == {LABELS["en"]["inaction"],
                                                                         LABELS["en"]["fingertip-formalism"]}
    digest_chart = drawn.charts[2][0]
    assert digest_chart.panels[0].title == "Rectification items by unit and status"
    assert digest_chart.panels[0].categories[0] == "Chengguanzhen Zhengfu"  # the unit's name, romanised


def test_an_english_chart_needs_no_cjk_font(no_cjk_font):
    assert charts.chart_language("en") == "en" == charts.chart_language("zh")
    assert charts.render("en", chinese_chart).startswith(b"\x89PNG")


def test_the_poster_uses_the_same_font_search(no_cjk_font, tmp_path):
    assert poster.find_cjk_font is charts.find_cjk_font and poster.FontFile is charts.FontFile
    assert poster.render_poster(tmp_path, "qingfeng_bot").chinese is False


def test_a_stale_matplotlib_font_cache_does_not_hide_installed_fonts(cjk_font, monkeypatch):
    """matplotlib's font list is cached from its first run; fonts installed since are found too."""
    from matplotlib import font_manager

    without = [entry for entry in font_manager.fontManager.ttflist
               if not charts._CJK_FILE.search(Path(entry.fname).name)]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", without)
    charts.reset()
    assert charts.find_cjk_font() == cjk_font


# ---- the digest names its units ---------------------------------------------------------------

def test_the_digest_labels_its_bars_with_unit_names(monkeypatch):
    drawn = Drawn(monkeypatch)
    digest.render_progress_chart(UNITS, "en")
    (chart, font), = drawn.charts
    categories = chart.panels[0].categories
    assert not [c for c in categories if re.fullmatch(r"#\d+", c)]
    if font is not None:
        assert categories == ["城关镇政府", "第一社区（东…治理办公室", r"A\$B 乡"]
    assert len(categories) == len(UNITS)


def test_the_digest_charts_at_most_chart_units_units(monkeypatch):
    drawn = Drawn(monkeypatch)
    many = [UnitSummary(n, f"单位{n}", {"open": 1}, 0) for n in range(digest.CHART_UNITS + 5)]
    digest.render_progress_chart(many, "zh")
    assert len(drawn.charts[0][0].panels[0].categories) == digest.CHART_UNITS


# ---- the text ---------------------------------------------------------------------------------

def test_labels_are_shortened_by_columns():
    assert charts.shorten("城关镇人民政府") == "城关镇人民政府"
    assert charts.shorten("城关镇人民政府办公室综合科", 12) == "城关镇人民…"
    assert charts.shorten("城关镇人民政府办公室综合科", 12, middle=True) == "城关镇…合科"
    assert charts.shorten("Formalism at the fingertips", 10) == "Formalism…"
    assert charts.shorten(" a  b\nc ") == "a b c"


def test_text_is_made_drawable():
    assert charts.drawable("城关镇（东区）、二组", None) == "Chengguanzhen (Dongqu), Erzu"
    assert charts.drawable("A$B", None) == "A$B"
    assert not HAN.search(charts.drawable("不担当不作为", None))
    private_use = "\U000f0000"  # a character no font has
    assert charts.drawable(f"x{private_use}y", None) == "x?y"


def test_a_dollar_is_not_mathtext(monkeypatch):
    drawn = Drawn(monkeypatch)
    charts.render("en", lambda language: charts.Chart([charts.Bars("$5 and $6", ["a$b"], [charts.Series("$", [1])])]))
    chart = drawn.charts[0][0]
    assert chart.panels[0].title == r"\$5 and \$6" and chart.panels[0].categories == [r"a\$b"]


# ---- one module draws -------------------------------------------------------------------------

def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_only_bot_charts_uses_matplotlib_and_stats_digest_poster_use_it():
    users = sorted(path.relative_to(ROOT).as_posix() for folder in ("bot", "handlers")
                   for path in (ROOT / folder).rglob("*.py")
                   if any(name.split(".")[0] == "matplotlib" for name in imports(path)))
    assert users == ["bot/charts.py"]
    for module in ("bot/reports/stats.py", "bot/reminders/digest.py", "bot/reports/poster.py", "bot/services.py"):
        assert "bot.charts" in imports(ROOT / module), module
    from bot.services import Services

    assert "charts.check_fonts" in inspect.getsource(Services.start)


def test_the_poster_command_says_what_to_install_in_the_cli_language(no_cjk_font, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QINGFENG_LANG", raising=False)
    monkeypatch.delenv("QINGFENG_BOT__LANGUAGE", raising=False)
    result = CliRunner().invoke(app, ["poster", "--output", str(tmp_path), "--bot-username", "qingfeng_bot"])
    assert result.exit_code == 0, result.output
    assert "没有找到中文（CJK）字体" in result.output and "fonts-noto-cjk" in result.output
    monkeypatch.setenv("QINGFENG_LANG", "en")
    result = CliRunner().invoke(app, ["poster", "--output", str(tmp_path), "--bot-username", "qingfeng_bot"])
    assert "No Chinese (CJK) font was found" in result.output
