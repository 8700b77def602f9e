"""Files: uploads of a request, the files the sandbox stores (sent by the bot or by users),
image sizes and a photo's PhotoSize list."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import ipaddress
import mimetypes
import secrets
import struct
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import aiohttp

from bot.sandbox.errors import ApiError, SandboxError, bad_request

DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
PHOTO_LIMIT = 10 * 1024 * 1024


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of a PNG, JPEG, GIF, WebP or BMP image, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(b"GIF8") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "gif", width, height
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "bmp", abs(width), abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return "webp", width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            return "webp", int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return "jpeg", width, height
            i += 2 + length
        return "jpeg", 0, 0
    return None


@dataclass
class Upload:
    """A file part of a multipart request."""

    data: bytes
    file_name: str | None = None
    content_type: str | None = None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def info(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                "file_size": len(self.data), "file_path": self.file_path}


_FILE_PREFIX = {"photo": "AgACAgIAAxkBAA", "document": "BQACAgIAAxkBAA"}
_FILE_FOLDER = {"photo": "photos", "document": "documents"}


def document_of(stored: StoredFile) -> dict:
    """A Document object for a stored file."""
    document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data)}
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    return document


class FileStore:
    """Every file in the sandbox, by file_id and by file_path (the download path).

    `stats` is the sandbox's stats dict (``uploads`` and ``downloads`` are counted in it);
    `session` gives the HTTP session that fetches files sent by URL.
    """

    def __init__(self, stats: dict, session: Callable[[], aiohttp.ClientSession]):
        self.stats = stats
        self.session = session
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}

    def get(self, file_id: str) -> StoredFile | None:
        return self.by_id.get(file_id)

    def bytes_of(self, file_id: str) -> StoredFile:
        """Any file, for the users' side (404 if unknown)."""
        stored = self.by_id.get(file_id)
        if stored is None:
            raise SandboxError(404, f"no file {file_id}")
        return stored

    def download(self, file_path: str) -> StoredFile:
        """A file by the path getFile gave (the bot's download)."""
        stored = self.by_path.get(file_path)
        if stored is None:
            raise ApiError(404, "Not Found")
        self.stats["downloads"] += 1
        return stored

    def store(self, data: bytes, kind: str, *, file_name: str | None = None, mime_type: str | None = None,
              strict_image: bool = True) -> StoredFile:
        width = height = None
        extension = None
        if kind == "photo":
            size = image_size(data)
            if size is None:
                if strict_image:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                size = ("jpg", 0, 0)
            extension, width, height = size
            extension = "jpg" if extension == "jpeg" else extension
        elif file_name and "." in file_name:
            extension = file_name.rsplit(".", 1)[1][:10]
        count = len(self.by_id) + 1
        file_id = _FILE_PREFIX.get(kind, "BQAC") + base64.urlsafe_b64encode(secrets.token_bytes(42)).decode().rstrip("=")
        unique = "AQAD" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()[:9]).decode().rstrip("=")
        path = f"{_FILE_FOLDER.get(kind, 'documents')}/file_{count}" + (f".{extension}" if extension else "")
        stored = StoredFile(file_id=file_id, file_unique_id=unique, kind=kind, data=data, file_path=path,
                            file_name=file_name, mime_type=mime_type, width=width, height=height)
        self.by_id[file_id] = stored
        self.by_path[path] = stored
        self.stats["uploads"] += 1
        return stored

    def photo_sizes(self, stored: StoredFile) -> list[dict]:
        """The PhotoSize list of a photo: a thumbnail (at most 90 px) if it is bigger, then itself."""
        width, height = stored.width or 0, stored.height or 0
        sizes = []
        if max(width, height) > 90:
            scale = 90 / max(width, height)
            thumb = StoredFile(**{**dataclasses.asdict(stored), "file_id": stored.file_id[:-6] + "thumbA",
                                  "file_unique_id": stored.file_unique_id + "-s"})
            self.by_id[thumb.file_id] = thumb
            sizes.append({"file_id": thumb.file_id, "file_unique_id": thumb.file_unique_id,
                          "file_size": len(stored.data), "width": max(1, round(width * scale)),
                          "height": max(1, round(height * scale))})
        sizes.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                      "file_size": len(stored.data), "width": width, "height": height})
        return sizes

    async def input_file(self, value: Upload | str | None, kind: str, param: str) -> StoredFile:
        """A file parameter of a send: an upload, a file_id, or a URL (of this machine only)."""
        if value is None:
            raise bad_request(f"there is no {param} in the request")
        if isinstance(value, Upload):
            limit = PHOTO_LIMIT if kind == "photo" else UPLOAD_LIMIT
            if len(value.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not value.data:
                raise bad_request("file must be non-empty")
            mime = value.content_type if value.content_type not in (None, "application/octet-stream") else None
            mime = mime or (mimetypes.guess_type(value.file_name or "")[0] if value.file_name else None)
            if kind != "photo" and not mime:
                mime = "application/octet-stream"
            return self.store(value.data, kind, file_name=value.file_name,
                              mime_type=None if kind == "photo" else mime)
        if value.startswith(("http://", "https://")):
            data, name, mime = await self._fetch(value)
            return self.store(data, kind, file_name=name, mime_type=None if kind == "photo" else mime)
        stored = self.by_id.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind and not (kind == "document" and stored.kind != "photo"):
            raise bad_request(f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}")
        return stored

    async def _fetch(self, url: str) -> tuple[bytes, str | None, str | None]:
        """Files sent by URL: fetched only from this machine (the sandbox has no Internet)."""
        host = urlsplit(url).hostname or ""
        try:
            local = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = False
        if not local:
            raise bad_request("wrong file identifier/HTTP URL specified")
        try:
            async with self.session().get(url) as response:
                if response.status != 200:
                    raise bad_request("failed to get HTTP URL content")
                data = await response.read()
                mime = response.content_type
        except aiohttp.ClientError:
            raise bad_request("failed to get HTTP URL content") from None
        name = urlsplit(url).path.rsplit("/", 1)[-1] or None
        return data, name, mime

