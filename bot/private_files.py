"""What the bot writes is for its own user only: the data folder 0700, every file 0600.

Reports are encrypted, but the database, its WAL, the knowledge cache, logs and exports still say
what the bot is, who its supervisors are and when it was busy. The process umask is set to 077
before anything is written, so files made later (the WAL, a new log, an export) are private
whatever umask the bot was started with, and what was already there is made private at start.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_UMASK = 0o077
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def use_private_umask() -> None:
    os.umask(PRIVATE_UMASK)


def make_private(data_dir: Path, *, database_url: str | None = None, log_file: Path | None = None) -> None:
    """The data folder (created if need be) 0700 and the files in it 0600, and so the SQLite
    database and the log file wherever they are."""
    use_private_umask()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    for folder in (path for path in data_dir.rglob("*") if path.is_dir()):
        folder.chmod(0o700)
    if database_url:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            files += [Path(url.database + suffix) for suffix in SQLITE_COMPANIONS]
    if log_file is not None:
        files.append(log_file)
    for path in files:
        if path.is_file():
            path.chmod(0o600)
