"""How the engine does on the labelled questions: the dev set (tests/data/devset, used to tune the
content and thresholds) and the held-out set (tests/data/heldout.yaml, written blind and never
tuned on). Prints every miss with -v, and the totals.

    .venv/bin/python bench/devset_report.py [-v]
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.engine import Band, KnowledgeEngine  # noqa: E402
from bot.knowledge.schema import load_knowledge  # noqa: E402


def load(paths) -> tuple[list[dict], list[str]]:
    inside, outside = [], []
    for path in paths:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        inside += data.get("in_domain", [])
        outside += data.get("out_of_domain", [])
    return inside, outside


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
    print(f"{name}: answered or suggested correctly {right}/{len(inside)} = {right / len(inside):.1%} "
          f"(expected entry among the top 3: {top3 / len(inside):.1%}); outside questions declined "
          f"{declined}/{len(outside)}")


def main() -> None:
    verbose = "-v" in sys.argv
    engine = KnowledgeEngine(load_knowledge(ROOT / "knowledge"))
    report("dev set", engine, *load(sorted((ROOT / "tests/data/devset").glob("*.yaml"))), verbose)
    heldout = ROOT / "tests/data/heldout.yaml"
    if heldout.exists():
        report("held-out set", engine, *load([heldout]), verbose)


if __name__ == "__main__":
    main()
