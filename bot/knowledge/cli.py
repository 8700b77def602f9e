"""`qingfeng kb check|gaps` and `qingfeng ask`: the knowledge base from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot.cli import ConfigOption, explained_failures, fail, settings_from
from bot.i18n import normalise_language
from bot.knowledge.engine import Answer, Band
from bot.knowledge.render import entry_plain
from bot.knowledge.schema import KnowledgeError, load_knowledge
from bot.knowledge.service import KnowledgeService

kb_app = typer.Typer(help="The knowledge base: check the files, see what users asked that it could not answer.",
                     no_args_is_help=True)

KbOption = Annotated[Optional[Path], typer.Option("--kb", help="Knowledge base folder (default: knowledge.path in the config).")]


@kb_app.command("check")
def check(path: Annotated[Optional[Path], typer.Argument(help="Folder to check (default: the configured one).")] = None,
          config: ConfigOption = None) -> None:
    """Validate every file: YAML syntax, fields, ids, translations, related ids, sources."""
    folder = path or _configured_folder(config)
    try:
        knowledge = load_knowledge(folder)  # checking needs no search index
    except KnowledgeError as error:
        for problem in error.problems:
            typer.echo(str(problem))
        typer.secho(f"{len(error.problems)} problem(s) in {folder}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"{folder}: {len(knowledge.entries)} entries in {len(knowledge.topics)} topics, no problems.")


@kb_app.command("gaps")
def gaps(config: ConfigOption = None,
         limit: Annotated[int, typer.Option(help="Show at most this many groups.")] = 30) -> None:
    """Questions the bot could not answer, and answers marked not helpful, grouped by similarity."""
    settings = settings_from(config)

    async def load():
        from bot import db

        database = db.Database.connect(settings.database_url)
        try:
            await db.prepare(database, auto_upgrade=settings.database.auto_upgrade)
            service = _service(settings, None, database)
            return await service.gaps()
        finally:
            await database.dispose()

    with explained_failures():
        groups = asyncio.run(load())
    if not groups:
        typer.echo("No unanswered questions or unhelpful answers recorded yet.")
        return
    for group in groups[:limit]:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(group.kinds.items()))
        typer.echo(f"{group.count:4d}  {group.example}   ({kinds})")
        for variant in group.variants:
            typer.echo(f"      ~ {variant}")


def ask(question: Annotated[str, typer.Argument(help="The question, or - to read one question per line from standard input.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per question.")] = False,
        kb: KbOption = None,
        lang: Annotated[Optional[str], typer.Option("--lang", help="Answer in zh or en (default: the question's language).")] = None,
        config: ConfigOption = None) -> None:
    """Answer a question as the bot would."""
    settings = settings_from(config)
    language = normalise_language(lang) if lang else None
    if lang and language is None:
        fail(f"--lang must be zh or en, not {lang!r}", 2)
    with explained_failures():
        service = _service(settings, kb, None)
    questions = (line.rstrip("\n") for line in sys.stdin) if question == "-" else [question]
    for text in questions:
        answer = service.ask(text, language or settings.bot.language)
        if language:
            answer.language = language
        typer.echo(json.dumps(answer_json(answer), ensure_ascii=False) if as_json else answer_text(answer))


def answer_json(answer: Answer) -> dict:
    best = answer.best
    entry = best.entry if best and answer.matched else None
    return {
        "question": answer.question,
        "matched": answer.matched,
        "band": answer.band.value,
        "entry_id": entry.id if entry else None,
        "score": round(best.score, 4) if best else 0.0,
        "confidence": round(best.confidence, 4) if best else 0.0,
        "language": answer.language,
        "answer": entry.answer[answer.language] if entry else None,
        "sources": [{"kind": s.kind, "name": s.value, "title": s.label(answer.language)} for s in entry.sources] if entry else [],
        "related": list(entry.related) if entry else [],
        "suggestions": [{"entry_id": m.entry.id, "question": m.entry.question[answer.language],
                         "confidence": round(m.confidence, 4)} for m in answer.suggestions],
        # The answers to the message's other questions, sent after the first (see KnowledgeEngine.ask).
        "also": [{"entry_id": m.entry.id, "confidence": round(m.confidence, 4),
                  "answer": m.entry.answer[answer.language]} for m in answer.also],
    }


def answer_text(answer: Answer) -> str:
    language = answer.language
    if answer.matched:
        return "\n\n---\n\n".join(entry_plain(entry, language) for entry in answer.entries)
    if answer.band is Band.SUGGEST:
        lines = ["Did you mean:" if language == "en" else "您是想问："]
        lines += [f"  - {m.entry.question[language]}  [{m.entry.id}]" for m in answer.suggestions]
        return "\n".join(lines)
    if answer.band is Band.EMPTY:
        return "Please type a question in words." if language == "en" else "请用文字输入问题。"
    return "No answer in the knowledge base." if language == "en" else "知识库中没有答案。"


def _configured_folder(config: Path | None) -> Path:
    settings = settings_from(config)
    return settings.path(settings.knowledge.path)


def _service(settings, folder: Path | None, database) -> KnowledgeService:
    try:
        return KnowledgeService(folder or settings.path(settings.knowledge.path), database,
                                answer_threshold=settings.knowledge.answer_threshold,
                                suggest_threshold=settings.knowledge.suggest_threshold)
    except KnowledgeError as error:
        fail(f"the knowledge base has {len(error.problems)} problem(s):\n{error}", 2)
        raise
