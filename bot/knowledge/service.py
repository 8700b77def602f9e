"""The knowledge base as the running bot uses it: answering, reloading safely, learning from use."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlmodel import select

from bot import throttle
from bot.db import Database
from bot.knowledge.engine import Answer, KnowledgeEngine, Match
from bot.knowledge.models import KnowledgeFeedback, KnowledgeGap
from bot.knowledge.cache import load_engine
from bot.knowledge.schema import Entry, KnowledgeBase, KnowledgeError, Problem, Topic, fingerprint_of
from bot.reports.codes import holds_code

log = logging.getLogger(__name__)

GAP_TEXT_LIMIT = 1000
UNANSWERED, UNHELPFUL = "unanswered", "unhelpful"


@dataclass
class GapGroup:
    """Similar questions the knowledge base did not serve, most frequent first."""

    example: str
    count: int
    kinds: dict[str, int]
    variants: list[str] = field(default_factory=list)


class KnowledgeService:
    def __init__(self, directory: Path, database: Database | None, *, answer_threshold: float = 0.45,
                 suggest_threshold: float = 0.30, cache_file: Path | None = None):
        self.directory = Path(directory)
        self.database = database
        self.cache_file = cache_file
        self.thresholds = dict(answer_threshold=answer_threshold, suggest_threshold=suggest_threshold)
        self.engine = self._load()
        self._failed_fingerprint: str | None = None  # files that failed to load: not retried until they change

    def _load(self) -> KnowledgeEngine:
        engine = load_engine(self.directory, self.cache_file, **self.thresholds)
        knowledge = engine.knowledge
        log.info("Knowledge base loaded: %d entries in %d topics", len(knowledge.entries), len(knowledge.topics))
        return engine

    # -- reading -------------------------------------------------------------------------------

    @property
    def knowledge(self) -> KnowledgeBase:
        return self.engine.knowledge

    def ask(self, question: str, language: str = "zh") -> Answer:
        return self.engine.ask(question, language)

    def search(self, question: str, limit: int = 5) -> list[Match]:
        return self.engine.search(question, limit)

    def entry(self, entry_id: str) -> Entry | None:
        return self.knowledge.entries.get(entry_id)

    def topics(self) -> list[Topic]:
        return list(self.knowledge.topics.values())

    def topic(self, topic_id: str) -> Topic | None:
        return self.knowledge.topics.get(topic_id)

    # -- reloading -----------------------------------------------------------------------------

    def current_fingerprint(self) -> str:
        """Of the files as they are now; differs from `knowledge.fingerprint` once they change."""
        return fingerprint_of(self.directory)

    def reload(self) -> list[Problem]:
        """Load the files again; on any problem keep answering from the old knowledge base."""
        fingerprint = self.current_fingerprint()
        try:
            self.engine = self._load()
        except KnowledgeError as error:
            self._failed_fingerprint = fingerprint
            log.warning("Knowledge base not reloaded, %d problem(s); still serving the previous one:\n%s",
                        len(error.problems), error)
            return error.problems
        self._failed_fingerprint = None
        return []

    def reload_if_changed(self) -> list[Problem]:
        """Reload when the files changed since the last load or the last failed attempt."""
        if self.current_fingerprint() in (self.knowledge.fingerprint, self._failed_fingerprint):
            return []
        return self.reload()

    # -- learning from use ---------------------------------------------------------------------

    async def record_unanswered(self, question: str, language: str) -> None:
        await self._record_gap(UNANSWERED, question, None, language)

    async def record_feedback(self, entry_id: str, helpful: bool, question: str | None, language: str,
                              voter: str | None = None, once_for: timedelta = timedelta(days=30)) -> bool:
        """Count a 👍/👎; False, counting nothing, when `voter` (a keyed hash of the user and the answer)
        already rated this answer within `once_for`."""
        today = date.today()
        async with self._database().transaction() as session:
            if voter is not None:
                now = datetime.now(timezone.utc)
                if (await throttle.used(session, voter, now=now))[0]:
                    return False
                await throttle.count(session, voter, now=now, until=throttle.window_end(now, once_for))
            row = await session.get(KnowledgeFeedback, (entry_id, today))
            if row is None:
                row = KnowledgeFeedback(entry_id=entry_id, day=today)
                session.add(row)
            if helpful:
                row.helpful += 1
            else:
                row.unhelpful += 1
        if not helpful:
            entry = self.entry(entry_id)
            asked = question or (entry.question.get(language) if entry else "")
            await self._record_gap(UNHELPFUL, asked, entry_id, language)
        return True

    async def _record_gap(self, kind: str, question: str, entry_id: str | None, language: str) -> None:
        text = " ".join(question.split())[:GAP_TEXT_LIMIT]
        if not text or holds_code(text):  # a receipt code pasted as a question opens a report: never kept
            return
        async with self._database().transaction() as session:
            session.add(KnowledgeGap(kind=kind, question=text, entry_id=entry_id, language=language, day=date.today()))

    async def gaps(self, similarity: float = 0.5) -> list[GapGroup]:
        async with self._database().session() as session:
            rows = (await session.exec(select(KnowledgeGap).order_by(KnowledgeGap.id))).all()
        return group_similar([(row.question, row.kind) for row in rows], self.engine.query_terms, similarity)

    def _database(self) -> Database:
        if self.database is None:
            raise RuntimeError("this knowledge service has no database")
        return self.database


def group_similar(questions: Sequence[tuple[str, str]], terms_of, similarity: float) -> list[GapGroup]:
    """Greedy grouping: a question joins the first group whose first question shares enough terms."""
    groups: list[tuple[set[str], GapGroup]] = []
    for text, kind in questions:
        terms = set(terms_of(text)) or {text.strip().lower()}
        for group_terms, group in groups:
            if len(terms & group_terms) / len(terms | group_terms) >= similarity:
                group.count += 1
                group.kinds[kind] = group.kinds.get(kind, 0) + 1
                if text not in group.variants and text != group.example and len(group.variants) < 5:
                    group.variants.append(text)
                break
        else:
            groups.append((terms, GapGroup(text, 1, {kind: 1})))
    return sorted((group for _, group in groups), key=lambda g: -g.count)
