"""Attachments: what is accepted, and the metadata that is stripped before anything is stored.

Images are decoded and re-encoded from their pixels alone, so EXIF (GPS position, camera,
time), XMP and comments are gone; the orientation is applied first. Office Open XML (docx, xlsx,
pptx) and OpenDocument (odt, ods, odp) files lose every author name they keep outside the text:
the document properties (author, last editor, company, manager), custom properties, comment
authors and initials, the people lists of comments, tracked-change authors and times, folder
paths on the author's computer (Excel's saved folder, templates and linked files), and the EXIF
(GPS), XMP and text of the JPEG and PNG pictures inside them. PDFs lose their Info dictionary,
every XMP metadata stream, the authors of their annotations and the EXIF of their JPEG images. Old binary Office files (.doc, .xls) cannot be cleaned and are
refused. Original file names are never kept (they often hold a name or the exact time a photo was
taken). Voice, video and audio are refused: a voice identifies a person.

What was cleaned is told to the reporter (`CleanFile.cleaned`), and so is what stays
(`CleanFile.kept`): names in the text itself or shown in pictures, and files embedded in a
document (not cleaned).

Zip-based files and images are checked before anything is unpacked or decoded: the sizes the zip
declares (which zipfile enforces while reading), the number of entries, the compression ratio,
and the pixel count of an image (decompression bombs: FileRefused("bomb")); an XML part is rewritten
only up to MAX_XML_PARSED. PDFs are cleaned in a child process (bot.reports.pdf_clean) whose address
space is capped, as qpdf inflates object streams to read them.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
import zipfile
from dataclasses import dataclass, field

from lxml import etree
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 30_000_000  # decoding needs ~3 copies of the pixels: 30 MP in RGB stays under 300 MB
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # anything else opening an image: refused at twice this
# Pillow warns of images above that at Image.open; _clean_image refuses them itself, before decoding.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # all entries of a zip-based document together
MAX_ENTRIES = 2_000
MAX_RATIO = 200  # uncompressed / compressed size of one entry bigger than RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_XML_PARSED = 10 * 1024 * 1024  # an XML part to rewrite: its tree takes ~11 times its size in memory

IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
_ZIP = b"PK\x03\x04"
OFFICE_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
DOCUMENT_TYPES = {
    "application/pdf": ("pdf", b"%PDF-"),
    **{mime: (extension, _ZIP) for mime, extension in OFFICE_TYPES.items()},
    "text/plain": ("txt", b""),
}
OLD_OFFICE_TYPES = {"application/msword": "doc", "application/vnd.ms-excel": "xls",
                    "application/vnd.ms-powerpoint": "ppt"}
IMAGE_MIME_TYPES = {mime for mime, _ext in IMAGE_FORMATS.values()}
ACCEPTED_EXTENSIONS = sorted({ext for _mime, ext in IMAGE_FORMATS.values()} | {ext for ext, _magic in DOCUMENT_TYPES.values()})
_BY_EXTENSION = {ext: mime for mime, (ext, _magic) in DOCUMENT_TYPES.items()} | {
    ext: mime for mime, ext in OLD_OFFICE_TYPES.items()} | {"jpeg": "image/jpeg"} | {
    ext: mime for mime, ext in IMAGE_FORMATS.values()}

# What `CleanFile.cleaned` and `CleanFile.kept` may hold (the intake words each for the reporter).
CLEANED = ("location", "camera", "properties", "custom", "comment_authors", "revisions", "folder", "picture_location",
           "pdf_info", "xmp",
           "annotation_authors")
KEPT = ("text", "embedded")
CAPTION_MAX_CHARS = 1024  # Telegram's own limit for a caption


class FileRefused(Exception):
    """The file cannot be taken; `reason` is one of: type, old_office, size, bomb, count, broken."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CleanFile:
    kind: str  # "image" or "document"
    mime: str
    extension: str
    data: bytes
    cleaned: tuple[str, ...] = ()  # of CLEANED, what was found and removed
    kept: tuple[str, ...] = field(default=())  # of KEPT, what may still name someone
    caption: str = ""  # what the reporter wrote with the file (kept encrypted with its metadata)

    @property
    def size(self) -> int:
        return len(self.data)

    def meta(self) -> dict:
        meta = {"kind": self.kind, "mime": self.mime, "extension": self.extension, "size": self.size}
        return {**meta, "caption": self.caption} if self.caption else meta


def check_size(size: int | None, max_mb: int) -> None:
    """Before downloading: refuse what is known to be too big."""
    if size is not None and size > max_mb * 1024 * 1024:
        raise FileRefused("size")


def check_type(mime: str | None) -> None:
    """Before downloading: FileRefused("old_office") or ("type") unless the type is taken."""
    mime = (mime or "").lower()
    if mime in OLD_OFFICE_TYPES:
        raise FileRefused("old_office")
    if not accepts(mime):
        raise FileRefused("type")


def accepts(mime: str | None) -> bool:
    return (mime or "").lower() in IMAGE_MIME_TYPES | set(DOCUMENT_TYPES)


def mime_for_name(file_name: str | None) -> str:
    """The type a file name's extension stands for ("" if unknown)."""
    extension = (file_name or "").rpartition(".")[2].lower() if "." in (file_name or "") else ""
    return _BY_EXTENSION.get(extension, "")


def sanitise(data: bytes, mime: str | None, *, max_mb: int) -> CleanFile:
    """The file as it will be stored, stripped of metadata; FileRefused if it is not acceptable."""
    check_size(len(data), max_mb)
    mime = (mime or "").lower()
    if mime in IMAGE_MIME_TYPES:
        return _clean_image(data)
    check_type(mime)
    extension, magic = DOCUMENT_TYPES[mime]
    if not data.startswith(magic):
        raise FileRefused("broken")
    if extension in OFFICE_TYPES.values():
        data, cleaned, kept = _clean_package(data)
        return CleanFile("document", mime, extension, data, cleaned, ("text",) + kept)
    if extension == "pdf":
        data, cleaned, kept = _clean_pdf(data)
        return CleanFile("document", mime, extension, data, cleaned, ("text",) + kept)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileRefused("broken") from None
    return CleanFile("document", mime, extension, data, (), ("text",))


# ---- images --------------------------------------------------------------------------------------

# What Pillow reports of an image that is about its pixels, not about who made it, where or when.
TECHNICAL_IMAGE_INFO = {"dpi", "gamma", "transparency", "jfif", "jfif_version", "jfif_unit", "jfif_density",
                        "progressive", "progression", "interlace", "aspect", "loop", "duration", "background",
                        "srgb", "adobe", "adobe_transform", "compression", "chromaticity"}

def _clean_image(data: bytes) -> CleanFile:
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only: nothing decoded yet
            if image.format not in IMAGE_FORMATS:
                raise FileRefused("type")
            if image.width * image.height > MAX_PIXELS:
                raise FileRefused("bomb")
            mime, extension = IMAGE_FORMATS[image.format]
            exif = image.getexif()
            had_location = bool(exif.get_ifd(ExifTags.IFD.GPSInfo))
            had_metadata = bool(exif) or bool(set(image.info) - TECHNICAL_IMAGE_INFO)
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            mode = "RGB" if mime == "image/jpeg" or not has_alpha else "RGBA"
            # A new image from the pixels alone: no EXIF, XMP, ICC, comments or text chunks survive.
            pixels = Image.new(mode, image.size)
            pixels.paste(image if image.mode == mode else image.convert(mode))
        out = io.BytesIO()
        pixels.save(out, _SAVE_AS[mime], **({"quality": 90} if mime == "image/jpeg" else {}))
    except Image.DecompressionBombError:
        raise FileRefused("bomb") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise FileRefused("broken") from None
    # Said only when there was something to remove, and what: the place only when a GPS position
    # was there (a photo with only its camera model did not give away where it was taken).
    cleaned = (("location",) if had_location else ()) + (("camera",) if had_metadata else ())
    return CleanFile("image", mime, extension, out.getvalue(), cleaned)


_SAVE_AS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


# ---- Office Open XML and OpenDocument --------------------------------------------------------------

_EMPTY_PARTS = {
    "docProps/core.xml": (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                          b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
                          b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
                          b'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>',
                          "properties"),
    "docProps/app.xml": (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                         b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>',
                         "properties"),
    "docProps/custom.xml": (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                            b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
                            b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>',
                            "custom"),
    "meta.xml": (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                 b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                 b'office:version="1.2"><office:meta/></office:document-meta>',
                 "properties"),
}
# Attributes (by local name) that hold a person, blanked (never removed: some are required); the
# elements they name a person on (None: any element).
_PERSON_ATTRIBUTES = {"author": None, "initials": None, "userId": None, "providerId": None, "userName": None,
                      "displayName": {"person"}, "name": {"cmAuthor", "author", "userInfo"}}
_DATE_ATTRIBUTES = {"date", "dateUtc", "dt"}
# Elements whose text is a person: xl/comments*.xml <author>, ODF dc:creator and friends.
_PERSON_ELEMENTS = {"author": "comment_authors", "creator": "comment_authors", "initial-creator": "properties",
                    "printed-by": "properties", "creator-initials": "comment_authors"}
_CANDIDATE = re.compile(rb"author|creator|initials|userid|username|providerid|displayname|abspath|printed-by"
                        rb"|targetmode|userinfo|cmauthor",
                        re.IGNORECASE)
_EMBEDDED = re.compile(r"(^|/)(embeddings|Object \d+|ObjectReplacements)/", re.IGNORECASE)


def _check_zip(source: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The entries, or FileRefused("bomb") before anything is unpacked."""
    entries = source.infolist()
    if len(entries) > MAX_ENTRIES:
        raise FileRefused("bomb")
    if sum(item.file_size for item in entries) > MAX_UNPACKED_BYTES:
        raise FileRefused("bomb")
    for item in entries:
        if item.file_size > RATIO_FLOOR and item.file_size > MAX_RATIO * max(item.compress_size, 1):
            raise FileRefused("bomb")
    return entries


def _clean_package(data: bytes) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """Rewrite a zip-based document without the people it names outside its text."""
    cleaned: set[str] = set()
    kept: set[str] = set()
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        entries = _check_zip(source)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in entries:
                if item.is_dir():
                    continue
                with source.open(item) as stream:  # zipfile stops at the declared size, checks the CRC
                    content = stream.read(item.file_size + 1)
                if len(content) > item.file_size:
                    raise FileRefused("bomb")
                if _EMBEDDED.search(item.filename):
                    kept.add("embedded")
                if item.filename in _EMPTY_PARTS:
                    content, what = _EMPTY_PARTS[item.filename]
                    cleaned.add(what)
                elif item.filename.endswith((".xml", ".rels")) and _CANDIDATE.search(content):
                    if len(content) > MAX_XML_PARSED:
                        raise FileRefused("bomb")
                    content = _scrub_xml(content, cleaned)
                elif item.filename.lower().endswith((".jpg", ".jpeg", ".png")):
                    stripped = strip_picture_metadata(content)
                    if stripped != content:
                        content = stripped
                        cleaned.add("picture_location")
                info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
                # OpenDocument's "mimetype" must stay first and stored
                info.compress_type = zipfile.ZIP_STORED if item.compress_type == zipfile.ZIP_STORED else zipfile.ZIP_DEFLATED
                target.writestr(info, content)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, RuntimeError, EOFError,
            NotImplementedError, etree.XMLSyntaxError):
        raise FileRefused("broken") from None
    return out.getvalue(), tuple(c for c in CLEANED if c in cleaned), tuple(k for k in KEPT if k in kept)


_PARSER = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False)


_LOCAL_PATH = re.compile(r"file:|[a-zA-Z]:[\\/]|\\\\|/", re.IGNORECASE)
_COMMENT_TAGS = {"comment", "cmAuthor", "author", "person", "presenceInfo", "annotation"}


def _attribute_kind(tag: str) -> str:
    """What a person attribute on this element is, for the reporter."""
    if tag in _COMMENT_TAGS:
        return "comment_authors"
    if tag in ("fileSharing", "userInfo"):
        return "properties"
    return "revisions"  # w:ins, w:del, w:rPrChange, …, Excel's revision headers


def _local(name: str) -> str:
    return name.rpartition("}")[2] if name.startswith("{") else name


def _scrub_xml(content: bytes, cleaned: set[str]) -> bytes:
    """The part without person attributes and elements' names, its namespaces and prefixes kept (lxml)."""
    root = etree.fromstring(content, etree.XMLParser(**_PARSER))
    changed = False
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        tag = _local(element.tag)
        if tag == "Relationship" and element.get("TargetMode") == "External" and _LOCAL_PATH.match(
                element.get("Target", "")):
            # a template or linked file on the author's computer: file:///C:\Users\name\…\Normal.dotm
            element.set("Target", re.split(r"[\\/]", element.get("Target"))[-1])
            cleaned.add("folder")
            changed = True
            continue
        if tag == "absPath":  # Excel's x15ac:absPath: the folder the file was saved in (C:\Users\name\…)
            element.getparent().remove(element)
            cleaned.add("folder")
            changed = True
            continue
        if tag in _PERSON_ELEMENTS and element.text and element.text.strip() and len(element) == 0:
            element.text = ""
            cleaned.add(_PERSON_ELEMENTS[tag])
            changed = True
        person = False
        for attribute in list(element.attrib):
            name = _local(attribute)
            if name not in _PERSON_ATTRIBUTES or (_PERSON_ATTRIBUTES[name] and tag not in _PERSON_ATTRIBUTES[name]):
                continue
            person = True
            if element.attrib[attribute]:
                cleaned.add(_attribute_kind(tag))
                element.attrib[attribute] = ""
                changed = True
        if person:
            for attribute in list(element.attrib):
                if _local(attribute) in _DATE_ATTRIBUTES:
                    del element.attrib[attribute]
    if not changed:
        return content
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# ---- pictures inside documents: metadata dropped without decoding the pixels ------------------------

_JPEG_DROPPED = {0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEF, 0xFE}
_PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME", b"iCCP"}


def strip_picture_metadata(data: bytes) -> bytes:
    """A JPEG without its APP1–APP15 segments but APP14 (EXIF, XMP, IPTC, ICC…) and comments, or a PNG without
    its EXIF, text, time and profile chunks; anything else (or a damaged picture) as it came."""
    try:
        if data.startswith(b"\xff\xd8"):
            return _strip_jpeg(data)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _strip_png(data)
    except (IndexError, ValueError):
        pass
    return data


def _strip_jpeg(data: bytes) -> bytes:
    out = [data[:2]]
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ValueError("not a marker")
        marker = data[at + 1]
        if marker == 0xDA:  # start of scan: the pixels follow, no more metadata segments to drop
            out.append(data[at:])
            return b"".join(out)
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < 2 or at + 2 + length > len(data):
            raise ValueError("bad length")
        if marker not in _JPEG_DROPPED:
            out.append(data[at:at + 2 + length])
        at += 2 + length
    raise ValueError("no scan")


def _strip_png(data: bytes) -> bytes:
    out = [data[:8]]
    at = 8
    while at + 12 <= len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        end = at + 12 + length
        if end > len(data):
            raise ValueError("bad length")
        if kind not in _PNG_DROPPED:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            return b"".join(out)
    raise ValueError("no end")


# ---- PDF -------------------------------------------------------------------------------------------

MAX_PDF_MEMORY = 640 * 1024 * 1024  # address space of the process that opens a PDF
PDF_SECONDS = 60
_ONE_PDF_AT_A_TIME = threading.BoundedSemaphore(1)  # so that two PDFs never take twice MAX_PDF_MEMORY


def _clean_pdf(data: bytes) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """The PDF cleaned in a child process with its memory capped: qpdf inflates object streams to read
    them, and a 1 MB PDF can ask for gigabytes (FileRefused("bomb"), the bot's memory untouched)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])  # where the bot package is, installed or not
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    try:
        with _ONE_PDF_AT_A_TIME:
            done = subprocess.run([sys.executable, "-m", "bot.reports.pdf_clean", str(MAX_PDF_MEMORY)], input=data,
                                  capture_output=True, timeout=PDF_SECONDS, check=False, env=env)
    except subprocess.TimeoutExpired:
        raise FileRefused("bomb") from None
    if done.returncode == 2:
        raise FileRefused("broken")
    if done.returncode != 0:
        raise FileRefused("bomb")  # out of memory (or killed)
    head, _, cleaned_pdf = done.stdout.partition(b"\n")
    found = json.loads(head)
    return (cleaned_pdf, tuple(c for c in CLEANED if c in found["cleaned"]),
            tuple(k for k in KEPT if k in found["kept"]))
