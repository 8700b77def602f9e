"""Print how the engine does on the labelled dev set (tests/data/devset): accuracy and every miss."""

import sys
from pathlib import Path

import yaml

from bot.knowledge.engine import Band, KnowledgeEngine
from bot.knowledge.schema import load_knowledge

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    engine = KnowledgeEngine(load_knowledge(ROOT / "knowledge"))
    inside, outside = [], []
    for path in sorted((ROOT / "tests/data/devset").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        inside += data.get("in_domain", [])
        outside += data.get("out_of_domain", [])
    right = 0
    for item in inside:
        answer = engine.ask(item["q"])
        top = answer.best.entry.id if answer.best else None
        expected = item["expect"] if isinstance(item["expect"], list) else [item["expect"]]
        ok = top in expected and answer.band in (Band.ANSWER, Band.SUGGEST)
        right += ok
        if not ok or "-v" in sys.argv:
            conf = answer.best.confidence if answer.best else 0
            print(f"{'ok  ' if ok else 'MISS'} {answer.band.value:8} {conf:.2f} {item['q']!r} -> {top} (want {item['expect']})")
    declined = 0
    for q in outside:
        answer = engine.ask(q)
        ok = answer.band in (Band.UNKNOWN, Band.EMPTY)
        declined += ok
        if not ok or "-v" in sys.argv:
            print(f"{'ok  ' if ok else 'OOD!'} {answer.band.value:8} {answer.best.confidence if answer.best else 0:.2f} {q!r} -> {answer.best.entry.id if answer.best else None}")
    print(f"in-domain {right}/{len(inside)} = {right / len(inside):.1%}; out-of-domain declined {declined}/{len(outside)}")


if __name__ == "__main__":
    main()
