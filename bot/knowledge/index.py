"""BM25 ranking over an inverted index, with the smoothed IDF that stays positive on small corpora.

Okapi's IDF, log((N - df + 0.5) / (df + 0.5)), is zero or negative for a term in half the
documents or more: on a knowledge base of a dozen entries, the words that matter most would
count for nothing or against a match. We use Lucene's form, log(1 + (N - df + 0.5) / (df + 0.5)),
which keeps the ordering and is always positive.

Each document is an entry; its fields count with different weights (a word in the question says
more than the same word deep in the answer), as in BM25F. Every term's contribution to every
document is computed once, at build time, and kept in three flat arrays (compressed sparse rows),
so a query only adds up a few slices, and the whole index pickles and loads quickly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75
# A word no entry contains counts against every match as much as the rarest word would.
UNKNOWN_WEIGHT = 1.0
# A term "covers" a question's word fully once its weighted frequency reaches this: a question, a
# paraphrase or a keyword does; a word mentioned once in an answer (weight 0.25) covers it a quarter.
FULL_PRESENCE = 1.0
# A long question carries detail ("my township", "last week", names) that no entry will contain.
# Beyond this much IDF weight (about six rare words) more words no longer dilute the confidence.
QUESTION_WEIGHT_CAP = 30.0


def smoothed_idf(document_count: int, document_frequency: int) -> float:
    return math.log(1.0 + (document_count - document_frequency + 0.5) / (document_frequency + 0.5))


@dataclass
class Scores:
    """For every document: its BM25 score, and how much of the query's IDF weight it covers (0 to 1;
    for a long question, how much of QUESTION_WEIGHT_CAP)."""

    score: np.ndarray
    coverage: np.ndarray


class SearchIndex:
    def __init__(self, documents: Sequence[Mapping[str, float]]):
        """`documents`: for each document, its weighted term frequencies."""
        self.size = len(documents)
        lengths = np.array([sum(doc.values()) for doc in documents], dtype=np.float64)
        average = float(lengths.mean()) if self.size else 1.0
        norm = K1 * (1 - B + B * lengths / (average or 1.0))
        by_term: dict[str, list[tuple[int, float]]] = {}
        for number, doc in enumerate(documents):
            for term, frequency in doc.items():
                by_term.setdefault(term, []).append((number, frequency))
        self.terms: dict[str, int] = {}
        self.idf = np.empty(len(by_term), dtype=np.float64)
        offsets = [0]
        ids: list[int] = []
        frequencies: list[float] = []
        for position, (term, postings) in enumerate(by_term.items()):
            self.terms[term] = position
            self.idf[position] = smoothed_idf(self.size, len(postings))
            for number, frequency in postings:
                ids.append(number)
                frequencies.append(frequency)
            offsets.append(len(ids))
        self.offsets = np.array(offsets, dtype=np.int64)
        self.ids = np.array(ids, dtype=np.int32)
        tf = np.array(frequencies, dtype=np.float64)
        idf_per_posting = np.repeat(self.idf, np.diff(self.offsets))
        self.weights = (idf_per_posting * tf * (K1 + 1) / (tf + norm[self.ids])).astype(np.float32)
        self.presence = (idf_per_posting * np.minimum(1.0, tf / FULL_PRESENCE)).astype(np.float32)
        self.unknown_idf = smoothed_idf(self.size, 0)

    def frequencies(self) -> dict[str, int]:
        """How many documents each term is in."""
        counts = np.diff(self.offsets)
        return {term: int(counts[position]) for term, position in self.terms.items()}

    def knows(self, term: str) -> bool:
        return term in self.terms

    def term_idf(self, term: str) -> float:
        position = self.terms.get(term)
        return float(self.idf[position]) if position is not None else self.unknown_idf

    def score(self, terms: Sequence[str]) -> Scores:
        score = np.zeros(self.size, dtype=np.float32)
        coverage = np.zeros(self.size, dtype=np.float32)
        total = 0.0
        for term, count in Counter(terms).items():
            position = self.terms.get(term)
            if position is None:
                total += self.unknown_idf * UNKNOWN_WEIGHT
                continue
            total += float(self.idf[position])
            start, end = self.offsets[position], self.offsets[position + 1]
            ids = self.ids[start:end]
            score[ids] += self.weights[start:end] * count
            coverage[ids] += self.presence[start:end]
        if total:
            coverage /= min(total, QUESTION_WEIGHT_CAP)
            np.minimum(coverage, 1.0, out=coverage)
        return Scores(score, coverage)


def top(values: np.ndarray, limit: int) -> list[int]:
    """Indexes of the `limit` largest values, largest first."""
    if limit >= len(values):
        order = np.argsort(-values, kind="stable")
    else:
        candidates = np.argpartition(-values, limit)[:limit]
        order = candidates[np.argsort(-values[candidates], kind="stable")]
    return [int(i) for i in order]
