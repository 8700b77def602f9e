"""Knowledge-base speed: Qingfeng's engine against a plain rank_bm25 baseline, same corpus, same queries.

    .venv/bin/python bench/kb.py [--entries 10000] [--queries 1000] [--seed 7]

A knowledge base of N entries is generated from the real one's vocabulary (each entry mixes the
words of several real entries, in both languages, with real sizes), written as YAML topic files,
and loaded the way the bot loads it. Each engine answers the same questions: paraphrases of
generated entries with words dropped. Reported per engine: load time (cold: files to a ready
index; for Qingfeng also warm: from its compiled cache, as at every restart after the first),
answer latency p50 and p99, memory (growth of the process's resident set over the load, each
engine in its own process), and top-1 accuracy on the queries.

The baseline is what one would write first: rank_bm25's BM25Okapi over jieba tokens of all of
an entry's text, scoring every entry for every question.
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import sys
import tempfile
import time
import multiprocessing
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.cache import load_engine  # noqa: E402
from bot.knowledge.schema import load_knowledge  # noqa: E402
from bot.knowledge.text import _raw_tokens, initialise_jieba  # noqa: E402


def generate(entries: int, seed: int, folder: Path) -> list[tuple[str, str]]:
    """Write a knowledge base of `entries` entries to `folder`; return (question, entry id) pairs."""
    real = load_knowledge(ROOT / "knowledge")
    rng = random.Random(seed)
    shutil.copy(ROOT / "knowledge" / "topics.yaml", folder / "topics.yaml")
    shutil.copy(ROOT / "knowledge" / "sources.yaml", folder / "sources.yaml")
    pool = list(real.entries.values())
    zh_words = sorted({w for e in pool for w in _raw_tokens(e.answer["zh"], fine=False)})
    en_words = sorted({w for e in pool for w in e.answer["en"].split()})
    topics = list(real.topics)
    per_topic: dict[str, list[dict]] = {t: [] for t in topics}
    queries: list[tuple[str, str]] = []
    for number in range(entries):
        base = rng.choice(pool)
        topic = topics[number % len(topics)]
        entry_id = f"g{number}"
        zh_q = "".join(rng.sample(zh_words, 6))
        en_q = " ".join(rng.sample(en_words, 8))
        paraphrases = {
            "zh": ["".join(rng.sample(zh_words, 5)) + zh_q[:4] for _ in range(3)],
            "en": [" ".join(rng.sample(en_words, 6)) + " " + en_q.split()[0] for _ in range(3)],
        }
        per_topic[topic].append({
            "id": entry_id,
            "question": {"zh": zh_q, "en": en_q},
            "paraphrases": paraphrases,
            "answer": {"zh": base.answer["zh"], "en": base.answer["en"]},
            "sources": [{source.kind: source.value} for source in base.sources],  # listed in the copied sources.yaml
            "keywords": {"zh": rng.sample(zh_words, 3), "en": rng.sample(en_words, 3)},
        })
        if len(queries) < 100_000:
            words = _raw_tokens(zh_q, fine=False)
            kept = [w for w in words if rng.random() > 0.25] or words
            queries.append(("".join(kept), entry_id))
            en = [w for w in en_q.split() if rng.random() > 0.25] or en_q.split()
            queries.append((" ".join(en), entry_id))
    for topic, items in per_topic.items():
        with (folder / f"{topic}.yaml").open("w", encoding="utf-8") as handle:
            yaml.safe_dump({"topic": topic, "entries": items}, handle, allow_unicode=True, sort_keys=False)
    return queries


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def in_child(job, *args):
    """Run `job` in a fresh process, so that its memory is its own; return what it returns."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(job, args)


def measure_load(build) -> tuple[object, float, float]:
    """(result, seconds, MiB of memory the process grew by)."""
    gc.collect()
    before = resident_mib()
    started = time.perf_counter()
    result = build()
    seconds = time.perf_counter() - started
    gc.collect()
    return result, seconds, resident_mib() - before


def measure_queries(answer, queries: list[tuple[str, str]]) -> tuple[float, float, float]:
    latencies, right = [], 0
    for question, expected in queries:
        started = time.perf_counter()
        found = answer(question)
        latencies.append((time.perf_counter() - started) * 1000)
        right += found == expected
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return statistics.median(latencies), p99, right / len(queries)


class Baseline:
    """rank_bm25 over jieba tokens of each entry's whole text."""

    def __init__(self, folder: Path):
        from rank_bm25 import BM25Okapi

        knowledge = load_knowledge(folder)
        self.ids = list(knowledge.entries)
        corpus = [_raw_tokens(" ".join(t for texts in e.searchable().values() for t in texts), fine=False)
                  for e in knowledge.entries.values()]
        self.bm25 = BM25Okapi(corpus)

    def answer(self, question: str) -> str | None:
        scores = self.bm25.get_scores(_raw_tokens(question, fine=False))
        return self.ids[int(scores.argmax())] if len(scores) else None


def run_qingfeng(folder: Path, cache: Path, queries: list[tuple[str, str]]):
    engine, seconds, memory = measure_load(lambda: load_engine(folder, cache))

    def answer(question: str) -> str | None:
        best = engine.ask(question).best
        return best.entry.id if best else None

    return seconds, memory, measure_queries(answer, queries) if queries else None


def run_baseline(folder: Path, queries: list[tuple[str, str]]):
    baseline, seconds, memory = measure_load(lambda: Baseline(folder))
    gc.freeze()  # as Qingfeng's loader does, so that neither pays for rescanning its index
    return seconds, memory, measure_queries(baseline.answer, queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    initialise_jieba()  # both engines need it; its one-off start is not either engine's cost
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "knowledge"
        folder.mkdir()
        print(f"Generating {args.entries} entries ...", file=sys.stderr)
        queries = generate(args.entries, args.seed, folder)
        random.Random(args.seed).shuffle(queries)
        queries = queries[: args.queries]
        cache = Path(temp) / "knowledge.cache"

        print("Qingfeng, cold start (no cache) ...", file=sys.stderr)
        cold, cold_memory = in_child(run_qingfeng, folder, cache, [])[:2]
        print("Qingfeng, warm start (from its cache) and questions ...", file=sys.stderr)
        warm, memory, ours = in_child(run_qingfeng, folder, cache, queries)
        print("rank_bm25, start and questions ...", file=sys.stderr)
        base_load, base_memory, theirs = in_child(run_baseline, folder, queries)

    rows = [
        ("engine", "load cold (s)", "load warm (s)", "memory (MiB)", "p50 (ms)", "p99 (ms)", "top-1"),
        ("qingfeng", f"{cold:.2f}", f"{warm:.2f}", f"{memory:.0f}", f"{ours[0]:.2f}",
         f"{ours[1]:.2f}", f"{ours[2]:.1%}"),
        ("rank_bm25 (baseline)", f"{base_load:.2f}", "-", f"{base_memory:.0f}", f"{theirs[0]:.2f}", f"{theirs[1]:.2f}",
         f"{theirs[2]:.1%}"),
    ]
    print(f"\n{args.entries} entries, {len(queries)} questions, Python {sys.version.split()[0]}\n")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")
        if number == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    print(f"\nspeed-up at p99: {theirs[1] / ours[1]:.1f}x")


if __name__ == "__main__":
    main()
