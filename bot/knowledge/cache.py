"""A compiled knowledge base on disk, so that a large one starts in a fraction of a second.

Segmenting every entry with jieba is the slow part of loading (about 25 s for 10,000 entries);
the result depends only on the files' contents, so it is kept in the data directory, keyed by a
hash of every file, and reused until any file changes. Only a knowledge base that passed every
check is ever written, so a cached one needs no checking.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
from pathlib import Path

from bot.knowledge.engine import KnowledgeEngine
from bot.knowledge.schema import fingerprint_of, knowledge_files, load_knowledge
from bot.knowledge.text import english_words

log = logging.getLogger(__name__)

FORMAT = "qingfeng-kb-18"  # change when the engine's pickled shape or analysis changes


def content_hash(directory: Path) -> str:
    digest = hashlib.sha256(FORMAT.encode())
    for path in knowledge_files(directory):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_engine(directory: Path, cache_file: Path | None, **thresholds: float) -> KnowledgeEngine:
    """The engine for `directory`: from the cache when the files are unchanged, else built (and
    cached). Raises KnowledgeError, listing every problem, when the files are broken."""
    key = content_hash(directory) if cache_file else ""
    engine = _read(cache_file, key) if cache_file else None
    if engine is None:
        engine = KnowledgeEngine(load_knowledge(directory))
        if cache_file:
            _write(cache_file, key, engine)
    engine.knowledge.fingerprint = fingerprint_of(directory)
    english_words()  # read at start, not by the first question that holds an English word
    # The engine lives as long as the process and holds millions of small objects (terms, typo
    # variants); frozen, they are no longer rescanned by every full garbage collection, which
    # would otherwise show as latency spikes of several milliseconds.
    gc.collect()
    gc.freeze()
    engine.answer_threshold = thresholds.get("answer_threshold", engine.answer_threshold)
    engine.suggest_threshold = thresholds.get("suggest_threshold", engine.suggest_threshold)
    return engine


def _read(cache_file: Path, key: str) -> KnowledgeEngine | None:
    try:
        with cache_file.open("rb") as handle:
            stored_key, engine = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception:  # a cache from another version or a torn file: rebuild
        log.info("Knowledge cache %s unusable; rebuilding", cache_file)
        return None
    return engine if stored_key == key else None


def _write(cache_file: Path, key: str, engine: KnowledgeEngine) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_file.with_suffix(".partial")
        with partial.open("wb") as handle:
            pickle.dump((key, engine), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, cache_file)  # atomic: a crash leaves the old cache or none
    except OSError as error:
        log.warning("Could not write the knowledge cache %s: %s", cache_file, error)
