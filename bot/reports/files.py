"""Attachments: what is accepted, and the metadata that is stripped before anything is stored.

Images are decoded and re-encoded from their pixels alone, so EXIF (GPS position, camera,
time), XMP and comments are gone; the orientation is applied first. Office documents (docx,
xlsx) lose their document properties (author, last editor, company). PDFs and old Office files
keep theirs: the reporter is told that documents may carry the author's name. Original file
names are never kept (they often hold a name or the exact time a photo was taken).
Voice, video and audio are refused: a voice identifies a person.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000

IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
DOCUMENT_TYPES = {
    "application/pdf": ("pdf", b"%PDF-"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx", b"PK\x03\x04"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx", b"PK\x03\x04"),
    "application/msword": ("doc", b"\xd0\xcf\x11\xe0"),
    "application/vnd.ms-excel": ("xls", b"\xd0\xcf\x11\xe0"),
    "text/plain": ("txt", b""),
}
IMAGE_MIME_TYPES = {mime for mime, _ext in IMAGE_FORMATS.values()}
ACCEPTED_EXTENSIONS = sorted({ext for _mime, ext in IMAGE_FORMATS.values()} | {ext for ext, _magic in DOCUMENT_TYPES.values()})

_EMPTY_CORE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
               b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
               b'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>')
_EMPTY_APP = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>')


class FileRefused(Exception):
    """The file cannot be taken; `reason` is one of: type, size, count, broken."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CleanFile:
    kind: str  # "image" or "document"
    mime: str
    extension: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def meta(self) -> dict:
        return {"kind": self.kind, "mime": self.mime, "extension": self.extension, "size": self.size}


def check_size(size: int | None, max_mb: int) -> None:
    """Before downloading: refuse what is known to be too big."""
    if size is not None and size > max_mb * 1024 * 1024:
        raise FileRefused("size")


def accepts(mime: str | None) -> bool:
    return (mime or "").lower() in IMAGE_MIME_TYPES | set(DOCUMENT_TYPES)


def sanitise(data: bytes, mime: str | None, *, max_mb: int) -> CleanFile:
    """The file as it will be stored, stripped of metadata; FileRefused if it is not acceptable."""
    check_size(len(data), max_mb)
    mime = (mime or "").lower()
    if mime in IMAGE_MIME_TYPES:
        return _clean_image(data)
    if mime not in DOCUMENT_TYPES:
        raise FileRefused("type")
    extension, magic = DOCUMENT_TYPES[mime]
    if not data.startswith(magic):
        raise FileRefused("broken")
    if extension in ("docx", "xlsx"):
        data = _clean_office(data)
    elif extension == "txt":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise FileRefused("broken") from None
    return CleanFile("document", mime, extension, data)


def _clean_image(data: bytes) -> CleanFile:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in IMAGE_FORMATS:
                raise FileRefused("type")
            if image.width * image.height > MAX_PIXELS:
                raise FileRefused("size")
            mime, extension = IMAGE_FORMATS[image.format]
            upright = ImageOps.exif_transpose(image)
            has_alpha = "A" in upright.getbands() or "transparency" in upright.info
            mode = "RGB" if mime == "image/jpeg" or not has_alpha else "RGBA"
            upright = upright.convert(mode)
            # A new image from the pixels alone: no EXIF, XMP, ICC, comments or text chunks survive.
            pixels = Image.frombytes(mode, upright.size, upright.tobytes())
            out = io.BytesIO()
            pixels.save(out, _SAVE_AS[mime], **({"quality": 90} if mime == "image/jpeg" else {}))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise FileRefused("broken") from None
    return CleanFile("image", mime, extension, out.getvalue())


_SAVE_AS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def _clean_office(data: bytes) -> bytes:
    """Rewrite a docx/xlsx without its author, editor and company properties."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                content = source.read(item.filename)
                if item.filename == "docProps/core.xml":
                    content = _EMPTY_CORE
                elif item.filename == "docProps/app.xml":
                    content = _EMPTY_APP
                info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, content)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        raise FileRefused("broken") from None
    return out.getvalue()
