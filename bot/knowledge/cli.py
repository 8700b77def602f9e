"""`qingfeng kb check|gaps` and `qingfeng ask`: the knowledge base from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot.cli import HELP_LANGUAGE, ConfigOption, Typer, cli_translator, explained_failures, fail, settings_from
from bot.i18n import Translate, normalise_language, translator
from bot.knowledge.engine import Answer, Band
from bot.knowledge.render import entry_plain
from bot.knowledge.schema import KnowledgeError, load_knowledge
from bot.knowledge.service import KnowledgeService

_ = translator(HELP_LANGUAGE)  # help texts (bot/cli.py); each command translates its messages itself

kb_app = Typer(help=_("The knowledge base: check the files, see what users asked that it could not answer."),
                     no_args_is_help=True)

KbOption = Annotated[Optional[Path], typer.Option("--kb", help=_("Knowledge base folder (default: knowledge.path in the config)."))]


@kb_app.command("check", help=_("Validate every file: YAML syntax, fields, ids, translations, related ids, sources."))
def check(path: Annotated[Optional[Path], typer.Argument(help=_("Folder to check (default: the configured one)."))] = None,
          config: ConfigOption = None) -> None:
    settings = None if path else settings_from(config)
    _ = cli_translator(settings=settings, config=config)
    folder = path or settings.path(settings.knowledge.path)
    try:
        knowledge = load_knowledge(folder)  # checking needs no search index
    except KnowledgeError as error:
        for problem in error.problems:
            typer.echo(str(problem))
        typer.secho(_("{count} problem(s) in {folder}", count=len(error.problems), folder=folder),
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(_("{folder}: {entries} entries in {topics} topics, no problems.", folder=folder,
                 entries=len(knowledge.entries), topics=len(knowledge.topics)))


@kb_app.command("gaps", help=_("Questions the bot could not answer, and answers marked not helpful, grouped by similarity."))
def gaps(config: ConfigOption = None,
         limit: Annotated[int, typer.Option(help=_("Show at most this many groups."))] = 30) -> None:
    settings = settings_from(config)
    _ = cli_translator(settings=settings)

    async def load():
        from bot import db

        database = db.Database.connect(settings.database_url)
        try:
            await db.prepare(database, auto_upgrade=settings.database.auto_upgrade)
            service = _service(settings, None, database, _)
            return await service.gaps()
        finally:
            await database.dispose()

    with explained_failures(_):
        groups = asyncio.run(load())
    if not groups:
        typer.echo(_("No unanswered questions or unhelpful answers recorded yet."))
        return
    for group in groups[:limit]:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(group.kinds.items()))
        typer.echo(f"{group.count:4d}  {group.example}   ({kinds})")
        for variant in group.variants:
            typer.echo(f"      ~ {variant}")


ASK_HELP = _("Answer a question as the bot would.")


def ask(question: Annotated[str, typer.Argument(help=_("The question, or - to read one question per line from standard input."))],
        as_json: Annotated[bool, typer.Option("--json", help=_("Print one JSON object per question."))] = False,
        kb: KbOption = None,
        lang: Annotated[Optional[str], typer.Option("--lang", help=_("Answer in zh or en (default: the question's language)."))] = None,
        config: ConfigOption = None) -> None:
    settings = settings_from(config)
    _ = cli_translator(lang, settings)
    language = normalise_language(lang) if lang else None
    if lang and language is None:
        fail(_("--lang must be zh or en, not {value}", value=repr(lang)), 2, _)
    with explained_failures(_):
        service = _service(settings, kb, None, _)
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


def _service(settings, folder: Path | None, database, _: Translate) -> KnowledgeService:
    try:
        return KnowledgeService(folder or settings.path(settings.knowledge.path), database,
                                answer_threshold=settings.knowledge.answer_threshold,
                                suggest_threshold=settings.knowledge.suggest_threshold)
    except KnowledgeError as error:
        fail(_("the knowledge base has {count} problem(s):", count=len(error.problems)) + f"\n{error}", 2, _)
        raise
