"""BM25 ranking over an inverted index, with the smoothed IDF that stays positive on small corpora.

Okapi's IDF, log((N - df + 0.5) / (df + 0.5)), is zero or negative for a term in half the
documents or more: on a knowledge base of a dozen entries, the words that matter most would
count for nothing or against a match. We use Lucene's form, log(1 + (N - df + 0.5) / (df + 0.5)),
which keeps the ordering and is always positive.

Each document is an entry; its fields count with different weights (a word in the question says
more than the same word deep in the answer), as in BM25F. Every term's contribution to every
document is computed once, at build time, so a query only adds up a few arrays.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75
# A word no entry contains counts against every match, but less than a rare word that entries do
# contain: questions carry filler the stop lists miss, while off-topic questions are mostly unknown words.
UNKNOWN_WEIGHT = 1.0
# A term "covers" a question's word fully once its weighted frequency reaches this: a question, a
# paraphrase or a keyword does; a word mentioned once in an answer (weight 0.5) covers it half.
FULL_PRESENCE = 1.0


def smoothed_idf(document_count: int, document_frequency: int) -> float:
    return math.log(1.0 + (document_count - document_frequency + 0.5) / (document_frequency + 0.5))


@dataclass
class Scores:
    """For every document: its BM25 score, and how much of the query's IDF weight it covers (0 to 1)."""

    score: np.ndarray
    coverage: np.ndarray


class SearchIndex:
    def __init__(self, documents: Sequence[Mapping[str, float]]):
        """`documents`: for each document, its weighted term frequencies."""
        self.size = len(documents)
        lengths = np.array([sum(doc.values()) for doc in documents], dtype=np.float64)
        average = float(lengths.mean()) if self.size else 1.0
        norm = K1 * (1 - B + B * lengths / (average or 1.0))
        postings: dict[str, tuple[list[int], list[float], list[float]]] = {}
        for number, doc in enumerate(documents):
            for term, frequency in doc.items():
                ids, weights, presence = postings.setdefault(term, ([], [], []))
                ids.append(number)
                weights.append(frequency * (K1 + 1) / (frequency + norm[number]))
                presence.append(min(1.0, frequency / FULL_PRESENCE))
        self.idf: dict[str, float] = {}
        self.postings: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for term, (ids, weights, presence) in postings.items():
            idf = smoothed_idf(self.size, len(ids))
            self.idf[term] = idf
            self.postings[term] = (np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32) * idf,
                                   np.array(presence, dtype=np.float32) * idf)
        self.unknown_idf = smoothed_idf(self.size, 0)

    def knows(self, term: str) -> bool:
        return term in self.postings

    def score(self, terms: Sequence[str]) -> Scores:
        score = np.zeros(self.size, dtype=np.float32)
        coverage = np.zeros(self.size, dtype=np.float32)
        counts = Counter(terms)
        total = 0.0
        for term, count in counts.items():
            posting = self.postings.get(term)
            if posting is None:
                total += self.unknown_idf * UNKNOWN_WEIGHT
                continue
            idf = self.idf[term]
            total += idf
            ids, weights, presence = posting
            score[ids] += weights * count
            coverage[ids] += presence
        if total:
            coverage /= total
        return Scores(score, coverage)


def top(values: np.ndarray, limit: int) -> list[int]:
    """Indexes of the `limit` largest values, largest first."""
    if limit >= len(values):
        order = np.argsort(-values, kind="stable")
    else:
        candidates = np.argpartition(-values, limit)[:limit]
        order = candidates[np.argsort(-values[candidates], kind="stable")]
    return [int(i) for i in order]
