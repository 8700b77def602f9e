"""How the engine does on the labelled questions: the dev set (tests/data/devset, used to tune the
content), the old held-out set (tests/data/heldout.yaml, used only to fit the thresholds) and the
blind held-out sets (tests/data/heldout_blind*.yaml, written from the seeds and DOMAIN.md by
someone who never saw the knowledge base; never fitted on; the second, heldout_blind2.yaml, was
written after the content of 2026-12-02 and nobody has looked at its misses to write content). The
fact-graded dev sets (tests/data/devset/facts/*.yaml) are written blind like the blind sets, then
read to direct the content: with -v each of their misses names the entries whose answer holds its
facts ("no entry": the content lacks them; some: the ranking missed them). Prints every miss with -v
(of the blind sets, only those in OPENED_BLIND_SETS), the totals,
and for each set how many were right and wrong in each confidence band (by entry for the first
two, by facts for the blind set), so the share of confident answers that are wrong is visible.

The answer and suggest thresholds are read from config.yaml (`knowledge.*_threshold`). `--fit`
fits them on the old held-out set, the split nobody writes content from and that is graded by
entry (a confident answer is right when its entry is one the item expects, wrong otherwise or
when the question is outside the domain), and prints the sweep and the chosen pair:
- answer threshold: the lowest one at which the share of confident answers that are wrong is
  the smallest the sweep reaches (the lowest, so that as many questions as possible are answered
  at that share), among those that answer at least MIN_ANSWERED_SHARE of the in-domain questions
  (a threshold answering a handful has a share that rests on one question: on the fitting set of
  2026-12-02, 0 wrong of 9 answered at 0.70 against 1 of 33 at 0.45);
- suggest threshold: the one (up to the answer threshold) at which "did you mean" offers the
  right entry to the most questions less twice the outside questions it offers anything to,
  the highest of those that tie (a "did you mean" on a question the bot should decline costs
  more than a right entry offered gains: every outside question is to be declined).
The blind set is then only measured with them, never fitted on.

    .venv/bin/python bench/devset_report.py [-v] [--fit] [--sealed]

--sealed adds the sealed blind sets (SEALED_BLIND_SETS), summary and bands only.
"""

import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.engine import Band, KnowledgeEngine  # noqa: E402
from bot.knowledge.render import entry_plain  # noqa: E402
from bot.knowledge.schema import load_knowledge  # noqa: E402

BANDS = (0.0, 0.30, 0.40, 0.45, 0.50, 0.55, 0.70, 0.85, 1.01)
OUTSIDE_OFFER_COST = 2  # see --fit in the module docstring
MIN_ANSWERED_SHARE = 1 / 3  # see --fit in the module docstring
# Thresholds tried: 0.20 .. 0.90 in steps of 0.05. The fitting set has 90 questions; finer steps
# would fit its noise (one question more or less moves a threshold by 0.01).
SWEEP = [round(0.20 + step * 0.05, 2) for step in range(15)]
OPENED_BLIND_SETS = {"heldout_blind.yaml"}  # read over several rounds to check fixes: no longer blind
# Sets still measuring honestly: their lines print only with --sealed, so that a routine run while
# writing content (a helper's, or one's own) cannot glance at them; each is measured on purpose.
SEALED_BLIND_SETS = {"heldout_blind4.yaml", "heldout_blind5.yaml", "heldout_blind6.yaml", "heldout_blind7.yaml",
                     "heldout_blind8.yaml", "heldout_blind9.yaml", "heldout_blind10.yaml",
                     "heldout_blind11.yaml", "heldout_blind12.yaml", "heldout_blind13.yaml", "heldout_blind14.yaml"}


def configured_thresholds() -> tuple[float, float]:
    knowledge = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["knowledge"]
    return knowledge["answer_threshold"], knowledge["suggest_threshold"]


def band_of(confidence: float) -> str:
    for low, high in zip(BANDS, BANDS[1:]):
        if low <= confidence < high:
            return f"{low:.2f}-{min(high, 1.0):.2f}"
    return "?"


def load(paths) -> tuple[list[dict], list[str]]:
    inside, outside = [], []
    for path in paths:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        inside += data.get("in_domain", [])
        outside += data.get("out_of_domain", [])
    return inside, outside


def entry_graded(engine: KnowledgeEngine, inside: list[dict], outside: list[str]) -> list[tuple[float, bool, bool]]:
    """(confidence of the best match, its entry is an expected one, the question is in the domain)."""
    rows = []
    for item in inside:
        expected = item["expect"] if isinstance(item["expect"], list) else [item["expect"]]
        best = engine.search(item["q"], 1)
        rows.append((best[0].confidence if best else 0.0, bool(best) and best[0].entry.id in expected, True))
    for question in outside:
        best = engine.search(question, 1)
        rows.append((best[0].confidence if best else 0.0, False, False))
    return rows


def print_entry_bands(rows: list[tuple[float, bool, bool]]) -> None:
    """Per confidence band: right entry first / wrong entry first (in domain), outside questions."""
    table: dict[str, Counter] = {}
    for confidence, right, inside in rows:
        table.setdefault(band_of(confidence), Counter())["right" if right else "wrong" if inside else "outside"] += 1
    print("  confidence  right-entry wrong-entry outside")
    for band in sorted(table):
        c = table[band]
        print(f"  {band}  {c['right']:11} {c['wrong']:11} {c['outside']:7}")


def fit_thresholds(rows: list[tuple[float, bool, bool]], verbose: bool = True) -> tuple[float, float]:
    """The answer and suggest thresholds chosen as the module docstring says, from `rows`."""
    sweep = []
    for threshold in SWEEP:
        answered = [r for r in rows if r[0] >= threshold]
        wrong = sum(not r[1] for r in answered)
        sweep.append((threshold, len(answered), wrong, wrong / len(answered) if answered else 1.0))
        if verbose:
            print(f"  answer at {threshold:.2f}: {len(answered):3} answered, {wrong:3} wrong "
                  f"({sweep[-1][3]:.1%})")
    if verbose:
        print(f"  (an answer threshold must answer at least {MIN_ANSWERED_SHARE:.0%} of the in-domain questions)")
    enough = MIN_ANSWERED_SHARE * sum(r[2] for r in rows)
    eligible = [row for row in sweep if row[1] >= enough] or sweep
    best_share = min(share for *_, share in eligible)
    answer = min(threshold for threshold, _, _, share in eligible if share == best_share)

    def net(threshold: float) -> int:
        offered = [r for r in rows if threshold <= r[0] < answer]
        return sum(r[1] for r in offered) - OUTSIDE_OFFER_COST * sum(not r[2] for r in offered)

    candidates = [threshold for threshold in SWEEP if threshold <= answer]
    best_net = max(net(threshold) for threshold in candidates)
    suggest = max(threshold for threshold in candidates if net(threshold) == best_net)
    if verbose:
        print(f"  suggest: right entries offered less {OUTSIDE_OFFER_COST} x outside questions offered, best {best_net}")
    return answer, suggest


def report(name: str, engine: KnowledgeEngine, inside: list[dict], outside: list[str], verbose: bool) -> None:
    right = top3 = 0
    for item in inside:
        expected = item["expect"] if isinstance(item["expect"], list) else [item["expect"]]
        answer = engine.ask(item["q"])
        top = answer.best.entry.id if answer.best else None
        ok = top in expected and answer.band in (Band.ANSWER, Band.SUGGEST)
        right += ok
        top3 += any(m.entry.id in expected for m in engine.search(item["q"], 3))
        if not ok and verbose:
            conf = answer.best.confidence if answer.best else 0
            print(f"MISS {answer.band.value:8} {conf:.2f} {item['q']!r} -> {top} (want {item['expect']})")
    declined = 0
    for question in outside:
        answer = engine.ask(question)
        ok = answer.band in (Band.UNKNOWN, Band.EMPTY)
        declined += ok
        if not ok and verbose:
            print(f"OOD! {answer.band.value:8} {answer.best.confidence:.2f} {question!r} -> {answer.best.entry.id}")
    rows = entry_graded(engine, inside, outside)
    confident = [r for r in rows if r[0] >= engine.answer_threshold]
    wrong = sum(not r[1] for r in confident)
    print(f"{name}: answered or suggested correctly {right}/{len(inside)} = {right / len(inside):.1%} "
          f"(expected entry among the top 3: {top3 / len(inside):.1%}); outside questions declined "
          f"{declined}/{len(outside)}; confident answers with another entry {wrong}/{len(confident)}")
    print_entry_bands(rows)


def has_facts(text: str, facts: list[str]) -> bool:
    """Every fact present: one of its ' | ' alternatives as a case-insensitive substring."""
    text = text.lower()
    return all(any(alt.strip().lower() in text for alt in fact.split("|")) for fact in facts)


def grade_blind(engine: KnowledgeEngine, item: dict) -> tuple[str, float]:
    """One blind item: 'right', 'wrong' (answered without the facts, in the wrong language, or an
    outside question answered), 'declined' (unknown or empty), 'suggest' (did-you-mean), with the
    confidence of the best match."""
    answer = engine.ask(item["text"], "zh" if item["lang"] == "zh" else "en")
    confidence = answer.best.confidence if answer.best else 0.0
    if answer.band is Band.ANSWER:
        if not item["in_domain"]:
            return "wrong", confidence
        text = "\n\n".join(entry_plain(entry, answer.language) for entry in answer.entries)  # all the bot sends
        ok = answer.language == item["lang"] and has_facts(text, item["expect"])
        return ("right" if ok else "wrong"), confidence
    if answer.band is Band.SUGGEST:
        return "suggest", confidence
    return "declined", confidence


def report_blind(engine: KnowledgeEngine, path: Path, verbose: bool) -> None:
    items = [item for item in yaml.safe_load(path.read_text(encoding="utf-8"))
             if not item.get("unsourced")]  # in the domain, but no source states the fact: not graded
    results = [(item, *grade_blind(engine, item)) for item in items]
    inside = [r for r in results if r[0]["in_domain"]]
    outside = [r for r in results if not r[0]["in_domain"]]

    def rate(rows):
        return sum(r[1] == "right" for r in rows) / len(rows) if rows else 0.0

    long_rows = [r for r in inside if r[0]["long"]]
    short_rows = [r for r in inside if not r[0]["long"]]
    declined = sum(r[1] in ("declined", "suggest") for r in outside)
    answered = [r for r in results if r[1] in ("right", "wrong")]
    wrong = sum(r[1] == "wrong" for r in answered)
    if not inside:  # a set of outside questions only
        print(f"{path.name}: outside questions not answered {declined}/{len(outside)} "
              f"(declined {sum(r[1] == 'declined' for r in outside)}, \"did you mean\" {sum(r[1] == 'suggest' for r in outside)})")
        return
    print(f"{path.name}: answered with the right facts in the asker's language "
          f"{sum(r[1] == 'right' for r in inside)}/{len(inside)} = {rate(inside):.1%} "
          f"(short {rate(short_rows):.1%}, long {rate(long_rows):.1%}; zh "
          f"{rate([r for r in inside if r[0]['lang'] == 'zh']):.1%}, en "
          f"{rate([r for r in inside if r[0]['lang'] == 'en']):.1%}); suggested "
          f"{sum(r[1] == 'suggest' for r in inside)}, declined {sum(r[1] == 'declined' for r in inside)}; "
          f"outside questions not answered {declined}/{len(outside)}; confident answers wrong "
          f"{wrong}/{len(answered)} = {wrong / max(1, len(answered)):.1%}")
    table: dict[str, Counter] = {}
    for item, verdict, confidence in results:
        table.setdefault(band_of(confidence), Counter())[verdict if item["in_domain"] else f"outside-{verdict}"] += 1
    print("  confidence  right wrong suggest declined | outside: answered suggested declined")
    for band in sorted(table):
        c = table[band]
        print(f"  {band}  {c['right']:5} {c['wrong']:5} {c['suggest']:7} {c['declined']:8} | "
              f"{c['outside-wrong']:17} {c['outside-suggest']:9} {c['outside-declined']:8}")
    if verbose:
        for item, verdict, confidence in results:
            if verdict != "right" and (item["in_domain"] or verdict == "wrong"):
                best = engine.ask(item["text"], item["lang"]).best
                print(f"MISS {verdict:8} {confidence:.2f} {item['id']} {item['text']!r} -> "
                      f"{best.entry.id if best else None} (want {item.get('expect', [])}; "
                      f"held by {held_by(engine, item)})")


def held_by(engine: KnowledgeEngine, item: dict) -> str:
    found = holders(engine, item)
    return ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "") if found else "no entry"


def holders(engine: KnowledgeEngine, item: dict) -> list[str]:
    """The entries whose answer in the asker's language holds every fact `item` expects: none means
    the content lacks the fact; some, that the ranking missed them."""
    if not item["in_domain"]:
        return []
    return [entry.id for entry in engine.entries if has_facts(entry_plain(entry, item["lang"]), item["expect"])]


def main() -> None:
    verbose = "-v" in sys.argv
    answer, suggest = configured_thresholds()
    engine = KnowledgeEngine(load_knowledge(ROOT / "knowledge"), answer_threshold=answer, suggest_threshold=suggest)
    if "--fit" in sys.argv:
        print("fitting on the old held-out set (tests/data/heldout.yaml):")
        fitted = fit_thresholds(entry_graded(engine, *load([ROOT / "tests/data/heldout.yaml"])))
        print(f"fitted: answer_threshold {fitted[0]:.2f}, suggest_threshold {fitted[1]:.2f} "
              f"(config.yaml: {answer:.2f}, {suggest:.2f})")
        engine.answer_threshold, engine.suggest_threshold = fitted
    print(f"thresholds: answer {engine.answer_threshold:.2f}, suggest {engine.suggest_threshold:.2f}")
    report("dev set", engine, *load(sorted((ROOT / "tests/data/devset").glob("*.yaml"))), verbose)
    heldout = ROOT / "tests/data/heldout.yaml"
    if heldout.exists():
        # Never its misses: the thresholds are fitted on this split because nobody writes content from it.
        report("held-out set", engine, *load([heldout]), verbose=False)
    for dev in sorted((ROOT / "tests/data/devset/facts").glob("*.yaml")):
        report_blind(engine, dev, verbose)  # graded by facts like the blind sets, but written to be read
    for blind in sorted((ROOT / "tests/data").glob("heldout_blind*.yaml")):
        if blind.name in SEALED_BLIND_SETS and "--sealed" not in sys.argv:
            continue
        # -v lists the misses only of the blind sets already opened to check fixes: a set still
        # measuring honestly (heldout_blind2.yaml) prints its figures, never its questions.
        report_blind(engine, blind, verbose and blind.name in OPENED_BLIND_SETS)


if __name__ == "__main__":
    main()
