"""Answering a question from the knowledge base, and knowing when not to.

The confidence of a match is the share of the question's meaning (its terms, weighted by how
rare they are) that the best entry contains, lowered when a runner-up is nearly as good. Above
`answer_threshold` the entry is the answer; between the two thresholds the user is asked "did
you mean" with up to three entries; below `suggest_threshold` the bot says it does not know.
The default thresholds are those of config.yaml, swept on the old held-out set by
`bench/devset_report.py --fit` (config.yaml says how each was set; the dev sets, which the content
is tuned on, only check them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from bot.knowledge.index import Scores, SearchIndex, top
from bot.knowledge.schema import Entry, KnowledgeBase
from bot.knowledge.text import (Analyzer, EnglishSpelling, OtherFields, PinyinReader, TypoFixer, asked_facts,
                                asked_parts_with_leads, asking_part, asking_sentences_of, asks_about_the_bot,
                                english_stems, has_chinese, is_pinyin_text, question_form, script_of, simplified,
                                stated_facts, stem, without_asides, without_counted_which, without_item_codes)

FIELD_WEIGHTS = {"question": 3.0, "paraphrases": 2.0, "keywords": 2.0, "answer": 0.25}
MAX_QUESTION_CHARS = 300   # a question is short; beyond this we read only the beginning
SUGGESTIONS = 3
AMBIGUITY_PENALTY = 0.15   # how much a runner-up scoring as well as the best lowers confidence
AMBIGUITY_ONSET = 0.8      # a runner-up scoring less than this share of the best leaves it alone
CONTEXT_WEIGHT = 0.5       # a long question's detail, beside the sentences that ask
# Sentences that ask with fewer meaningful words than this (IDF weight; one rare word is about 4-6)
# ask nothing on their own ("how do I know if anyone is looking at it?"): the whole question is read.
MIN_ASKING_WEIGHT = 5.0
# The least meaning, and the confidence, of a few words read alone. "How do I check what happened
# to my report?" weighs about 3 (three common words): at 3.0 the bar sat on it, and any entry that
# came to use one of its words more often flipped it; the unsealed sets read the same at 2.5.
MIN_ALONE_WEIGHT, SURE_ALONE = 2.5, 0.8
SURE_PART = 0.95           # a message's question matched this surely by its own words keeps its entry, whatever the story
KIND_BOOST = 1.25          # an entry of the kind the question's form asks for ("what is" -> definition) ranks higher
# An entry whose answer lacks the fact the question asks for (a year, a number) ranks lower, and its
# confidence is lowered as much and kept below the answer threshold: it shares the question's words,
# not its answer (see asked_facts), so it is at best offered ("did you mean"), never the answer.
MISSING_FACT_FACTOR = 0.6
# A message asking two or three things ("什么是一案双查？留置最长多久？怎么匿名反映？") gets, beside
# the best entry, the entries that answer its other questions confidently: at most this many more.
# Of a message's questions, at most MAX_PARTS are read.
MORE_ANSWERS = 2
MAX_PARTS = 6
# Two entries scoring within this share of each other, both confidently, are a near tie that the
# words cannot settle ("整改完成以后怎么销号？": what closing is, and how it is reviewed): the
# runner-up is sent after the best rather than left unseen. On a fresh dev set most confident wrong
# answers were such ties, most often with the right entry second.
TIE_SHARE = 0.9
# A pinyin word that at most this many entries write ("what does xiaohao mean") is read as Chinese in
# a question all the same: the entries that quote it are not all those about its Chinese word.
PINYIN_QUOTED_IN = 2
# A question typed exactly as an entry's question or one of its paraphrases (ignoring case, spaces
# and punctuation) is that entry: its author said so. Words alone rank it no higher than entries that
# share them ("I want to report" is every reporting entry's word), and the right one came third.
EXACT_CONFIDENCE = 1.0


class Band(str, Enum):
    ANSWER = "answer"      # confident: answer with the entry
    SUGGEST = "suggest"    # "did you mean": offer the best few
    UNKNOWN = "unknown"    # say so, offer the topics
    EMPTY = "empty"        # nothing to search for (blank, emoji, punctuation)


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float
    confidence: float
    exact: bool = False  # the question is one of the entry's own phrasings (see EXACT_CONFIDENCE)


@dataclass
class Answer:
    question: str
    language: str
    band: Band
    best: Match | None = None
    suggestions: list[Match] = field(default_factory=list)
    truncated: bool = False
    also: list[Match] = field(default_factory=list)  # the answers to the message's other questions
    other_field: str | None = None  # the word that names another field (留置针, credit card): not ours to answer

    @property
    def entries(self) -> list[Entry]:
        """What the user is answered with: the best entry, then those of the other questions."""
        return [self.best.entry, *(m.entry for m in self.also)] if self.band is Band.ANSWER else []

    @property
    def matched(self) -> bool:
        return self.band is Band.ANSWER


def phrasing_key(text: str) -> str:
    """A question as its words alone: lower case, without spaces and punctuation."""
    return "".join(ch for ch in simplified(text).lower() if ch.isalnum())


def own_phrasings(entries: list[Entry]) -> dict[str, int]:
    """Each entry's question and paraphrases, by phrasing_key, to the entry's number; a phrasing
    that two entries share belongs to neither."""
    found: dict[str, int] = {}
    shared: set[str] = set()
    for number, entry in enumerate(entries):
        for text in (*entry.question.values(), *(p for ps in entry.paraphrases.values() for p in ps)):
            key = phrasing_key(text)
            if key in found and found[key] != number:
                shared.add(key)
            found.setdefault(key, number)
    return {key: number for key, number in found.items() if key not in shared and key}


class KnowledgeEngine:
    def __init__(self, knowledge: KnowledgeBase, *, answer_threshold: float = 0.45,
                 suggest_threshold: float = 0.30, analyzer: Analyzer | None = None):
        self.knowledge = knowledge
        self.answer_threshold = answer_threshold
        self.suggest_threshold = suggest_threshold
        self.analyzer = analyzer or Analyzer(knowledge.words, knowledge.synonyms)
        self.entries: list[Entry] = list(knowledge.entries.values())
        self.facts = [stated_facts(" ".join(entry.answer.values())) for entry in self.entries]
        self.index = SearchIndex([self._document(entry) for entry in self.entries])
        self.phrasings = own_phrasings(self.entries)
        self.spellings = self.analyzer.synonyms.spellings()  # concept -> the words that spell it
        keywords = [k for entry in self.entries for k in entry.keywords.get("zh", ())]
        domain_words = [*knowledge.words, *keywords, *(str(w) for g in knowledge.synonyms for w in g)]
        frequencies = self.document_frequency = self.index.frequencies()
        # The other fields' words are mended and read from pinyin too, so that 留至针 and "liuzhizhen"
        # are 留置针, and declined (see TypoFixer for where they are not).
        self.typos = TypoFixer(frequencies, domain_words, knowledge.outside)
        self.pinyin = PinyinReader([*domain_words, *knowledge.outside], frequencies)
        self.other_fields = OtherFields(knowledge.outside)
        self.spelling = EnglishSpelling.of_texts(
            (text for entry in self.entries for texts in entry.searchable().values() for text in texts), frequencies)

    def _document(self, entry: Entry) -> Counter:
        counts: Counter = Counter()
        for field_name, texts in entry.searchable().items():
            weight = FIELD_WEIGHTS[field_name]
            for text in texts:
                for term in self.analyzer.terms(text):
                    counts[term] += weight
        return counts

    def query_terms(self, question: str) -> list[str]:
        """The question's terms, cut as entries are (whole words and the words inside them), with
        typos mended (see TypoFixer). An unknown word counts once: the pieces jieba sees inside it
        that are unknown too are dropped, or 七百多 would weigh as three unknown words; so is a word
        that only spells a synonym the question holds (四个形态 for 四种形态, "finger tips"): its
        concept stands for it."""
        terms = []
        question = without_asides(without_item_codes(without_counted_which(question)))
        typed_in_pinyin = is_pinyin_text(question)
        question = self.pinyin.read(question, known=self._english_word_of_ours)
        question = self.spelling.mend(question, known=self.index.knows)
        english = english_stems(question)  # real words the entries do not write: not typos of theirs
        for term in self.analyzer.terms(self.typos.mend_chinese(question)):
            if not self.index.knows(term) and term not in english:
                term = self.typos.fix(term) or term
            terms.append(term)
        if typed_in_pinyin:  # what the reader could not turn into a known word is a particle (naxie, ne)
            terms = [t for t in terms if self.index.knows(t) or has_chinese(t)]
        unknown = {t for t in terms if not self.index.knows(t)}
        concepts = {t for t in terms if t.startswith("§")}
        spelled = {word for concept in concepts for word in self.spellings.get(concept, ())}
        return [t for t in terms if t not in unknown or not (t in spelled or any(t != u and t in u for u in unknown))]

    def _english_word_of_ours(self, word: str) -> bool:
        """A Latin word the entries write, and not only as the pinyin of a domain word quoted in one or
        two of them: the "xiaohao" of "what does xiaohao mean" would otherwise keep "asking us for
        xiaohao" from 销号. (A name, "Fan Yonghong", is kept as written.)"""
        frequency = self.document_frequency.get(stem(word), 0)
        return frequency > PINYIN_QUOTED_IN or (frequency > 0 and not self.pinyin.spells_domain_word(word))

    def ask(self, question: str, language: str = "zh") -> Answer:
        text = simplified((question or "").strip())
        truncated = len(text) > MAX_QUESTION_CHARS
        language = script_of(text[:MAX_QUESTION_CHARS], tie=language) or language  # the majority script
        terms = self.query_terms(text[:MAX_QUESTION_CHARS])
        if all(term.isdigit() for term in terms) and not self._help_match(text):  # "1", "？？", "😀": nothing to look up
            return Answer(question, language, Band.EMPTY, truncated=truncated)
        matches = self._match(text, SUGGESTIONS + 1)
        if not matches:
            return Answer(question, language, Band.UNKNOWN, truncated=truncated,
                          other_field=self.other_field_in(text[:MAX_QUESTION_CHARS]))
        best = matches[0]
        if best.confidence >= self.answer_threshold:
            band = Band.ANSWER
        elif best.confidence >= self.suggest_threshold:
            band = Band.SUGGEST
        else:
            band = Band.UNKNOWN
        suggestions = [m for m in matches[:SUGGESTIONS] if m.confidence >= self.suggest_threshold]
        parts = self._parts_answered(text, terms) if band in (Band.ANSWER, Band.SUGGEST) else []
        if band is Band.SUGGEST and parts:  # the whole is unclear, yet each of its questions is not
            band, best, parts = Band.ANSWER, parts[0], parts[1:]
        elif best.entry.id in {m.entry.id for m in parts}:  # the whole matched one of its questions best:
            best, parts = parts[0], parts[1:]                 # still answered in the order asked
        if band is Band.ANSWER and not best.exact:
            parts = parts or self._asked_alone(text)
            parts += [m for m in self._tied(matches) if m.entry.id not in {p.entry.id for p in parts}]
        also = [m for m in parts if m.entry.id != best.entry.id][:MORE_ANSWERS]
        return Answer(question, language, band, best, suggestions, truncated, also)

    def _parts_answered(self, text: str, terms: list[str]) -> list[Match]:
        """For a message that asks several things, the entry answering each of its questions (read
        alone, with the message, whose `terms` are given, as context) confidently, each entry once,
        in the order asked."""
        found: list[Match] = []
        # A long message asks at its end, past the cut that the whole is read to: each part is cut instead.
        parts = asked_parts_with_leads(text)[:MAX_PARTS]
        context = self.index.score(terms) if parts else None
        for part, lead in parts:
            part_terms = self.query_terms(part[:MAX_QUESTION_CHARS])
            if self._weight(part_terms) < MIN_ASKING_WEIGHT:
                # "这是啥原因", "who decides": too little to look up on its own; the sentence it ends may say of what
                if lead == part:
                    continue
                part = lead[-MAX_QUESTION_CHARS:]
                part_terms = self.query_terms(part)
                if self._weight(part_terms) < MIN_ASKING_WEIGHT:
                    continue
            # The part's own words decide how sure we are; the message's words, which part of the
            # domain it means ("有没有别的办法" after a story of an item that cannot be fixed).
            asked, own = self.pinyin.read(part), self.index.score(part_terms)
            with_context = Scores(own.score + CONTEXT_WEIGHT * context.score, own.coverage.copy())
            matches = self._rank_scores(with_context, 1, asked)
            # A question all but surely answered by its own words is not pulled away by the story's
            # ("...老人举着牌子拍照...你们这个举报真的不会留下我的信息吗？": what is kept, not photos).
            alone = self._rank_scores(own, 1, asked)
            if alone and alone[0].confidence >= SURE_PART:
                matches = alone
            # Nor is one the story pulls to an earlier part's entry: it asks something else, which
            # its own words say ("一案双查查哪些人？对领导干部能采取哪些问责方式？").
            elif matches and alone and matches[0].entry.id in {m.entry.id for m in found}:
                matches = alone
            if matches and matches[0].confidence >= self.answer_threshold and \
                    matches[0].entry.id not in {m.entry.id for m in found}:
                found.append(matches[0])
        return found

    def _weight(self, terms: list[str]) -> float:
        """How much meaning `terms` carry: the IDF of each once."""
        return sum(self.index.term_idf(term) for term in set(terms))

    def _asked_alone(self, text: str) -> list[Match]:
        """A long question's asking sentences read without the story, when they alone match an entry
        confidently: the story may have pulled the answer towards itself."""
        asking = asking_part(text)
        if asking is None:
            return []
        asking = asking[:MAX_QUESTION_CHARS]
        terms = self.query_terms(asking)
        weight = self._weight(terms)
        if weight < MIN_ALONE_WEIGHT:
            return []
        # A few common words ("how do I check what happened to my report?") are read alone too, but
        # must match all but surely.
        bar = self.answer_threshold if weight >= MIN_ASKING_WEIGHT else SURE_ALONE
        matches = self._rank(terms, 1, self.pinyin.read(asking))
        return matches if matches and matches[0].confidence >= bar else []

    def _tied(self, matches: list[Match]) -> list[Match]:
        """The runner-up, when it ties with the best (see TIE_SHARE) and is confident too."""
        if len(matches) < 2:
            return []
        best, second = matches[0], matches[1]
        tied = second.score >= TIE_SHARE * best.score and second.confidence >= self.answer_threshold
        return [second] if tied else []

    def search(self, question: str, limit: int = 5) -> list[Match]:
        """The best entries for `question`, best first, with their confidence."""
        return self._match(simplified(question), limit)

    def _of_another_field(self, whole: str, asking: str | None) -> bool:
        """Another field's word (留置针, a credit card's 逾期) declines the question, however well the
        shared words match: in the whole (cut at MAX_QUESTION_CHARS) or in the sentences that ask,
        which may lie past the cut."""
        return any(self.other_field_in(part) for part in (whole, asking) if part)

    def other_field_in(self, text: str) -> str | None:
        """The other field's word `text` holds, as typed, in pinyin or misspelt (留至针 for 留置针)."""
        read = self.pinyin.read(text)
        return self.other_fields.found(read) or self.other_fields.found(self.typos.mend_chinese(read))

    def _match(self, text: str, limit: int) -> list[Match]:
        """The help entry for a question about the bot itself; else the ranked entries, the one the
        question is a phrasing of first."""
        whole = text[:MAX_QUESTION_CHARS]
        helps = self._help_match(whole)
        if helps:
            return helps
        return self._exact_first(text, self._ranked(text, whole, limit), limit)

    def _ranked(self, text: str, whole: str, limit: int) -> list[Match]:
        """A question of several sentences full of detail is matched by the sentences that ask
        (see asking_part): their terms count fully, the whole text's at CONTEXT_WEIGHT, and the
        confidence is the better of the two coverages."""
        asking = asking_part(text)
        if self._of_another_field(whole, asking):
            return []
        if asking is None or not self.entries:
            return self._rank(self.query_terms(whole), limit, self.pinyin.read(whole))
        asking = asking[:MAX_QUESTION_CHARS]
        question_terms, context_terms = self.query_terms(asking), self.query_terms(whole)
        if self._weight(question_terms) < MIN_ASKING_WEIGHT:
            return self._rank(context_terms, limit, self.pinyin.read(whole))
        scores = self.index.score(question_terms)
        context = self.index.score(context_terms)
        scores.score += CONTEXT_WEIGHT * context.score
        np.maximum(scores.coverage, context.coverage, out=scores.coverage)
        return self._rank_scores(scores, limit, self.pinyin.read(asking))

    def _exact_first(self, text: str, matches: list[Match], limit: int) -> list[Match]:
        """`matches` with the entry the question, or the sentence of it that asks, is a phrasing of,
        if any, first and sure ("I'm scared they will find out it was me. What do you keep about
        me?": the story's words outweigh the few the question is made of)."""
        whole = text[:MAX_QUESTION_CHARS]
        # The whole, the sentences that ask, or one of them in a short message ("问责和处分是一回事吗？
        # 别绕弯子。": the remark around the question is no part of it).
        candidates = [whole, asking_part(text) or "", *asking_sentences_of(whole)[:MAX_PARTS]]
        number = next((self.phrasings[key] for key in map(phrasing_key, candidates) if key in self.phrasings), None)
        if number is None or self._of_another_field(whole, None):
            return matches
        entry = self.entries[number]
        own = next((m for m in matches if m.entry.id == entry.id), None)
        score = max([m.score for m in matches] + [own.score if own else 0.0])
        rest = [m for m in matches if m.entry.id != entry.id]
        return [Match(entry, score, EXACT_CONFIDENCE, exact=True), *rest][:limit]

    @property
    def _below_answer(self) -> float:
        """The highest confidence that is not an answer."""
        return max(0.0, self.answer_threshold - 0.01)

    def _help_match(self, text: str) -> list[Match]:
        """The knowledge base's help entry, when the question only asks what the bot can do."""
        entry = self.knowledge.entries.get(self.knowledge.help_entry or "")
        return [Match(entry, 1.0, 1.0)] if entry and asks_about_the_bot(text) else []

    def _rank(self, terms: list[str], limit: int, asked: str) -> list[Match]:
        if not terms or not self.entries:
            return []
        return self._rank_scores(self.index.score(terms), limit, asked)

    def _rank_scores(self, scores: Scores, limit: int, asked: str) -> list[Match]:
        """The best `limit` entries for the question `asked`: an entry of the kind its form asks for
        scores KIND_BOOST times more, one lacking a fact it asks for MISSING_FACT_FACTOR times less
        (in confidence too)."""
        kind, facts = question_form(asked), asked_facts(asked)
        pool = [i for i in top(scores.score, 3 * (limit + 1)) if scores.score[i] > 0]
        for i in pool:
            if kind and self.entries[i].kind == kind:
                scores.score[i] *= KIND_BOOST
            if not facts <= self.facts[i]:
                scores.score[i] *= MISSING_FACT_FACTOR
                scores.coverage[i] = min(MISSING_FACT_FACTOR * scores.coverage[i], self._below_answer)
        order = sorted(pool, key=lambda i: -float(scores.score[i]))[:limit + 1]
        if not order:
            return []
        # A runner-up nearly as good as the best makes the question ambiguous: less confidence in all.
        penalty = 0.0
        if len(order) > 1:
            closeness = float(scores.score[order[1]]) / float(scores.score[order[0]])
            penalty = AMBIGUITY_PENALTY * max(0.0, closeness - AMBIGUITY_ONSET) / (1.0 - AMBIGUITY_ONSET)
        return [Match(self.entries[n], float(scores.score[n]), max(0.0, min(1.0, float(scores.coverage[n]) - penalty)))
                for n in order[:limit]]
