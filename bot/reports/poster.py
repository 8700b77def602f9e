"""A printable poster for village notice boards: a QR code of the report link and short Chinese
instructions, as PNG and PDF (A4 at 150 dpi).

The Chinese text needs a CJK font, found as the charts find theirs (`bot.charts.find_cjk_font`);
without one, the poster is still made (QR code, link, English instructions) and the command
warns with `INSTALL_HINT`, which says what to install.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.charts import FontFile, find_cjk_font  # one font search for the charts and the poster
from bot.i18n import N_

A4_PIXELS = (1240, 1754)  # 210 × 297 mm at 150 dpi
DPI = 150
MARGIN = 90

TITLE_ZH = "清风 · 匿名举报形式主义、官僚主义"
SUBTITLE_ZH = "扫码举报 · 机器人不保存您的身份 · 件件有回应"
STEPS_ZH = [
    "用手机扫描二维码，在 Telegram 中打开清风机器人，点“开始”。",
    "按提示选择问题类别，写明单位或地点、时间和经过，可附照片。",
    "提交后请抄下“回执码”：这是查询的唯一凭证，丢失无法找回。",
    "凭回执码发送 /status，可查看处理进展、回答提问、补充材料。",
    "清风不保存您的身份，但 Telegram 知道您的账号和手机号。建议用单独的账号举报，内容里不写能认出您的细节。",
]
TITLE_EN = "Qingfeng: report formalism anonymously"
SUBTITLE_EN = "Scan to report. The bot keeps no record of who you are."
STEPS_EN = [
    "Scan the QR code with your phone and open the Qingfeng bot in Telegram.",
    "Choose a category; write the unit or place, when, and what happened.",
    "Write down the receipt code you get: it is the only way back to your report.",
    "Send /status with the code to follow the case and answer questions.",
    "Telegram knows your account and phone number. Safer: use a separate account; leave out identifying details.",
]

INSTALL_HINT = N_("No Chinese (CJK) font was found, so the poster has English text only. Install one, e.g. "
                "`apt-get install -y fonts-noto-cjk` (Debian/Ubuntu) or `dnf install google-noto-sans-cjk-fonts`, "
                "or pass --font FILE, then run `qingfeng poster` again.")


@dataclass(frozen=True)
class Poster:
    png: Path
    pdf: Path
    link: str
    chinese: bool  # False when no CJK font was found


def report_link(username: str) -> str:
    return f"https://t.me/{username.lstrip('@')}?start=report"


def _font(file: FontFile | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if file is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(file.path, size=size, index=file.index)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Break text to fit a width: between characters for Chinese, between words otherwise."""
    words = list(text) if not text.isascii() else text.split(" ")
    joiner = "" if not text.isascii() else " "
    lines, current = [], ""
    for word in words:
        candidate = current + (joiner if current else "") + word
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word.lstrip() if joiner == "" else word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def render_image(link: str, *, font: FontFile | None, bold: FontFile | None = None) -> Image.Image:
    """The poster as an A4 image."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    chinese = font is not None
    width, height = A4_PIXELS
    image = Image.new("RGB", A4_PIXELS, "white")
    draw = ImageDraw.Draw(image)
    text_width = width - 2 * MARGIN
    green = (24, 110, 74)
    draw.rectangle([0, 0, width, 28], fill=green)
    draw.rectangle([0, height - 28, width, height], fill=green)

    y = 90
    title_font = _font(bold or font, 64 if chinese else 58)
    for line in _wrap(draw, TITLE_ZH if chinese else TITLE_EN, title_font, text_width):
        draw.text((width / 2, y), line, font=title_font, fill=green, anchor="ma")
        y += 84
    subtitle_font = _font(font, 38)
    draw.text((width / 2, y + 6), SUBTITLE_ZH if chinese else SUBTITLE_EN, font=subtitle_font, fill="black",
              anchor="ma")
    y += 80

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2, box_size=10)
    code.add_data(link)
    code.make(fit=True)
    qr = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    side = 640
    qr = qr.resize((side, side), Image.NEAREST)
    image.paste(qr, ((width - side) // 2, y))
    y += side + 16
    link_font = ImageFont.load_default(size=34)
    draw.text((width / 2, y), link, font=link_font, fill="black", anchor="ma")
    y += 80

    step_font = _font(font, 34)
    for number, step in enumerate(STEPS_ZH if chinese else STEPS_EN, start=1):
        prefix = f"{number}. "
        indent = draw.textlength(prefix, font=step_font)
        lines = _wrap(draw, step, step_font, int(text_width - indent))
        draw.text((MARGIN, y), prefix, font=step_font, fill=green)
        for line in lines:
            draw.text((MARGIN + indent, y), line, font=step_font, fill="black")
            y += 50
        y += 14
    return image


def render_poster(output_dir: Path, username: str, *, font_path: Path | None = None) -> Poster:
    """Write poster.png and poster.pdf into `output_dir`."""
    link = report_link(username)
    if font_path is not None:
        font = bold = FontFile(str(font_path))
    else:
        font, bold = find_cjk_font(False), find_cjk_font(True)
    image = render_image(link, font=font, bold=bold)
    output_dir.mkdir(parents=True, exist_ok=True)
    png, pdf = output_dir / "poster.png", output_dir / "poster.pdf"
    image.save(png, "PNG", dpi=(DPI, DPI))
    image.save(pdf, "PDF", resolution=DPI)
    return Poster(png=png, pdf=pdf, link=link, chinese=font is not None)
