"""Evidence files kept by the bot, under <data_dir>/evidence/<item>/, one file per piece of evidence.

Unit contacts are named officials, so their files are kept as sent (no cleaning, unlike a
reporter's). The folder is 0700 and each file 0600 whatever the umask: evidence can hold internal
documents. Names are made safe for any file system and start with the evidence id, so that two
files of the same name never overwrite each other.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the service imports this module
    from bot.ledger.service import Evidence

FOLDER = "evidence"
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
NAME_LIMIT = 120
PHOTO_NAME = "photo.jpg"


def safe_name(name: str, limit: int = NAME_LIMIT) -> str:
    """A file or folder name without path separators, control or reserved characters."""
    cleaned = UNSAFE.sub("_", name).strip(" .") or "file"
    if len(cleaned) <= limit:
        return cleaned
    stem, dot, suffix = cleaned.rpartition(".")
    return (stem[: limit - len(suffix) - 1] + dot + suffix) if dot and len(suffix) <= 10 else cleaned[:limit]


def keep(data_dir: Path, label: str, evidence_id: int, file: "Evidence") -> tuple[str, int, str]:
    """Write the file; returns its path relative to the data folder, its size and SHA-256."""
    folder = Path(FOLDER) / safe_name(label)
    os.makedirs(data_dir / folder, mode=0o700, exist_ok=True)
    os.chmod(data_dir / FOLDER, 0o700)
    os.chmod(data_dir / folder, 0o700)
    relative = folder / f"{evidence_id}-{safe_name(file.file_name or PHOTO_NAME)}"
    descriptor = os.open(data_dir / relative, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        target.write(file.content)
    os.chmod(data_dir / relative, 0o600)
    return relative.as_posix(), len(file.content), hashlib.sha256(file.content).hexdigest()


def copy_out(data_dir: Path, stored_path: str, target_dir: Path, label: str) -> str:
    """Copy a kept file to <target_dir>/<label>/; returns where, relative to target_dir ("" if the
    file is gone from the data folder)."""
    source = data_dir / stored_path
    if not source.is_file():
        return ""
    relative = Path(safe_name(label)) / source.name
    (target_dir / relative.parent).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target_dir / relative)
    return relative.as_posix()
