"""Reading the knowledge base from YAML and checking it, with every problem as `file:line: message`.

The directory holds `topics.yaml` (the topics, in display order), `sources.yaml` (titles of the
seed articles), `dictionary.yaml` (domain words and synonyms) and one `<topic>.yaml` per topic.
Loading is fast (libyaml); only when something is wrong is a file parsed again, slowly, to find
the line of each problem.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("zh", "en")
MIN_PARAPHRASES = 3
SPECIAL_FILES = ("topics.yaml", "sources.yaml", "dictionary.yaml")
SOURCE_KINDS = ("seed", "document", "guide")
ENTRY_KEYS = {"id", "question", "paraphrases", "answer", "sources", "related", "keywords", "kind"}
# What an entry is, optional: a question's form ("what is", "how many", "how do I", "can I be") prefers its kind.
ENTRY_KINDS = ("definition", "rule", "procedure", "figure", "case")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ID_LENGTH = 40  # ids travel in 64-byte callback data

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Source:
    kind: str    # seed, document or guide
    value: str   # file name, document title, or guide name
    title: dict[str, str]

    def label(self, language: str) -> str:
        return self.title.get(language) or self.value


@dataclass(frozen=True)
class Topic:
    id: str
    title: dict[str, str]
    description: dict[str, str]


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    question: dict[str, str]
    paraphrases: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    sources: tuple[Source, ...]
    related: tuple[str, ...]
    keywords: dict[str, tuple[str, ...]]
    kind: str | None = None

    def searchable(self) -> dict[str, list[str]]:
        """The entry's text by field, both languages together."""
        return {
            "question": [self.question[lang] for lang in LANGUAGES],
            "paraphrases": [p for lang in LANGUAGES for p in self.paraphrases.get(lang, ())],
            "keywords": [k for lang in LANGUAGES for k in self.keywords.get(lang, ())],
            "answer": [self.answer[lang] for lang in LANGUAGES],
        }


@dataclass
class KnowledgeBase:
    topics: dict[str, Topic]
    entries: dict[str, Entry]
    words: list[str] = field(default_factory=list)
    synonyms: list[list[str]] = field(default_factory=list)
    fingerprint: str = ""
    outside: list[str] = field(default_factory=list)  # words of other fields: a question using one is declined
    help_entry: str | None = None  # answers "what can you do", "help", 你能做什么: questions made of stop words

    def in_topic(self, topic_id: str) -> list[Entry]:
        return [entry for entry in self.entries.values() if entry.topic == topic_id]


def load_knowledge(directory: Path) -> KnowledgeBase:
    """The knowledge base in `directory`, or KnowledgeError listing every problem."""
    reader = _Reader(Path(directory))
    knowledge = reader.read()
    if reader.problems:
        raise KnowledgeError(reader.problems)
    return knowledge


def check_knowledge(directory: Path) -> list[Problem]:
    reader = _Reader(Path(directory))
    reader.read()
    return reader.problems


def knowledge_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("*.yaml"))


def fingerprint_of(directory: Path) -> str:
    """Changes whenever a file is added, removed or edited: the reload watcher compares it."""
    digest = hashlib.sha256()
    for path in knowledge_files(directory):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_mtime_ns}:{stat.st_size};".encode())
    return digest.hexdigest()


class _Reader:
    """Reads every file, collecting problems instead of stopping at the first."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.problems: list[Problem] = []
        self._lines: dict[Path, dict[tuple, int]] = {}

    # -- problems, with the line found on demand ------------------------------------------------

    def problem(self, path: Path, where: tuple, message: str) -> None:
        self.problems.append(Problem(self._display(path), self._line_of(path, where), message))

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def _line_of(self, path: Path, where: tuple) -> int:
        if path not in self._lines:
            self._lines[path] = _line_map(path)
        lines = self._lines[path]
        while where and where not in lines:
            where = where[:-1]
        return lines.get(where, 1)

    # -- files --------------------------------------------------------------------------------

    def read(self) -> KnowledgeBase:
        if not self.directory.is_dir():
            self.problems.append(Problem(str(self.directory), 1, "not a directory"))
            return KnowledgeBase({}, {})
        topics = self._topics()
        catalogue = self._sources()
        words, synonyms, outside, help_entry = self._dictionary()
        entries: dict[str, Entry] = {}
        places: dict[str, tuple[Path, tuple]] = {}
        for path in knowledge_files(self.directory):
            if path.name not in SPECIAL_FILES:
                self._topic_file(path, topics, catalogue, entries, places)
        for entry in entries.values():
            for index, related in enumerate(entry.related):
                if related not in entries:
                    path, where = places[entry.id]
                    self.problem(path, where + ("related", index), f"{entry.id}: related entry '{related}' does not exist")
        if not entries and not self.problems:
            self.problems.append(Problem(str(self.directory), 1, "no entries: add <topic>.yaml files"))
        if help_entry is not None and help_entry not in entries:
            self.problem(self.directory / "dictionary.yaml", ("help_entry",), f"help_entry '{help_entry}' does not exist")
            help_entry = None
        return KnowledgeBase(topics, entries, words, synonyms, fingerprint_of(self.directory), outside, help_entry)

    def _load(self, path: Path) -> Any:
        try:
            return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            self.problems.append(Problem(self._display(path), line, f"YAML syntax: {exc.problem or exc}"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            self.problems.append(Problem(self._display(path), 1, f"cannot read: {exc}"))
        return None

    def _required(self, path: Path, name: str) -> Any:
        if not path.exists():
            self.problems.append(Problem(self._display(path), 1, f"missing: the knowledge base needs {name}"))
            return None
        return self._load(path)

    def _topics(self) -> dict[str, Topic]:
        path = self.directory / "topics.yaml"
        data = self._required(path, "topics.yaml listing the topics")
        topics: dict[str, Topic] = {}
        if data is None:
            return topics
        items = data.get("topics") if isinstance(data, dict) else None
        if not isinstance(items, list):
            self.problem(path, (), "expected 'topics:' with a list of topics")
            return topics
        for index, item in enumerate(items):
            where = ("topics", index)
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                self.problem(path, where, "a topic needs an id")
                continue
            title = self._bilingual(path, where + ("title",), item.get("title"), f"topic {item['id']}: title")
            description = self._bilingual(path, where + ("description",), item.get("description"),
                                          f"topic {item['id']}: description")
            if item["id"] in topics:
                self.problem(path, where, f"duplicate topic id '{item['id']}'")
            topics[item["id"]] = Topic(item["id"], title, description)
        return topics

    def _sources(self) -> dict[str, dict[str, dict]]:
        """What an entry may cite, by kind (seed, document, guide): each name with its title in
        both languages (a document's with its year, so that an answer says which version it rests on)."""
        path = self.directory / "sources.yaml"
        empty = {kind: {} for kind in SOURCE_KINDS}
        if not path.exists():
            return empty
        data = self._load(path) or {}
        if not isinstance(data, dict):
            self.problem(path, (), "expected 'seeds:', 'documents:' and 'guides:' mappings")
            return empty
        return {kind: dict(data.get(f"{kind}s") or {}) for kind in SOURCE_KINDS}

    def _dictionary(self) -> tuple[list[str], list[list[str]], list[str], str | None]:
        path = self.directory / "dictionary.yaml"
        if not path.exists():
            return [], [], [], None
        data = self._load(path) or {}
        if not isinstance(data, dict):
            self.problem(path, (), "expected 'words:' and 'synonyms:' lists")
            return [], [], [], None
        words = data.get("words") or []
        synonyms = data.get("synonyms") or []
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            self.problem(path, ("words",), "'words' must be a list of words")
            words = []
        clean_groups = []
        for index, group in enumerate(synonyms if isinstance(synonyms, list) else []):
            if not isinstance(group, list) or len(group) < 2 or not all(isinstance(s, str) for s in group):
                self.problem(path, ("synonyms", index), "a synonym group is a list of at least two spellings")
            else:
                clean_groups.append(group)
        outside = data.get("outside") or []
        if not isinstance(outside, list) or not all(isinstance(w, str) and w.strip() for w in outside):
            self.problem(path, ("outside",), "'outside' must be a list of words")
            outside = []
        help_entry = data.get("help_entry")
        if help_entry is not None and not isinstance(help_entry, str):
            self.problem(path, ("help_entry",), "'help_entry' must be an entry id")
            help_entry = None
        return words, clean_groups, outside, help_entry

    def _topic_file(self, path: Path, topics: dict[str, Topic], catalogue: dict[str, dict],
                    entries: dict[str, Entry], places: dict[str, tuple[Path, tuple]]) -> None:
        data = self._load(path)
        if data is None:
            return
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            self.problem(path, (), "expected 'topic:' and 'entries:' with a list of entries")
            return
        topic = data.get("topic")
        if topic != path.stem:
            self.problem(path, ("topic",), f"'topic' must be '{path.stem}' (the file name)")
        elif topics and topic not in topics:
            self.problem(path, ("topic",), f"topic '{topic}' is not listed in topics.yaml")
        for index, raw in enumerate(data["entries"]):
            where = ("entries", index)
            entry = self._entry(path, where, raw, path.stem, catalogue)
            if entry is None:
                continue
            if entry.id in entries:
                other_path, other_where = places[entry.id]
                self.problem(path, where + ("id",), f"duplicate id '{entry.id}' (also in "
                             f"{self._display(other_path)}:{self._line_of(other_path, other_where + ('id',))})")
                continue
            entries[entry.id] = entry
            places[entry.id] = (path, where)

    def _entry(self, path: Path, where: tuple, raw: Any, topic: str, catalogue: dict[str, dict]) -> Entry | None:
        if not isinstance(raw, dict):
            self.problem(path, where, "an entry must be a mapping with id, question, answer ...")
            return None
        entry_id = raw.get("id")
        if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id) or len(entry_id) > MAX_ID_LENGTH:
            self.problem(path, where + ("id",), f"id {entry_id!r}: use lowercase letters, digits and '-', "
                         f"at most {MAX_ID_LENGTH} characters")
            return None
        for key in sorted(set(raw) - ENTRY_KEYS):
            self.problem(path, where + (key,), f"{entry_id}: unknown field '{key}' (expected one of "
                         f"{', '.join(sorted(ENTRY_KEYS))})")
        question = self._bilingual(path, where + ("question",), raw.get("question"), f"{entry_id}: question")
        answer = self._bilingual(path, where + ("answer",), raw.get("answer"), f"{entry_id}: answer")
        paraphrases = self._lists(path, where + ("paraphrases",), raw.get("paraphrases"), f"{entry_id}: paraphrases",
                                  minimum=MIN_PARAPHRASES)
        keywords = self._lists(path, where + ("keywords",), raw.get("keywords") or {}, f"{entry_id}: keywords",
                               minimum=0)
        sources = self._entry_sources(path, where + ("sources",), raw.get("sources"), entry_id, catalogue)
        related = raw.get("related") or []
        if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
            self.problem(path, where + ("related",), f"{entry_id}: 'related' must be a list of entry ids")
            related = []
        kind = raw.get("kind")
        if kind is not None and kind not in ENTRY_KINDS:
            self.problem(path, where + ("kind",), f"{entry_id}: kind {kind!r} is not one of {', '.join(ENTRY_KINDS)}")
            kind = None
        return Entry(entry_id, topic, question, paraphrases, answer, sources, tuple(related), keywords, kind)

    def _bilingual(self, path: Path, where: tuple, value: Any, what: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.problem(path, where, f"{what}: missing (give zh and en)")
            return {}
        result = {}
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                self.problem(path, where + (language,), f"{what}: missing translation '{language}'")
            else:
                result[language] = text.strip()
        for key in value:
            if key not in LANGUAGES:  # {en: Inspection, rectification and closing items}: YAML cut it at the comma
                self.problem(path, where + (str(key),), f"{what}: unexpected key {str(key)!r}; a text with a comma "
                             "inside {zh: ..., en: ...} must be quoted")
        return result

    def _lists(self, path: Path, where: tuple, value: Any, what: str, minimum: int) -> dict[str, tuple[str, ...]]:
        if not isinstance(value, dict):
            self.problem(path, where, f"{what}: expected zh and en lists")
            return {}
        result = {}
        for language in LANGUAGES:
            items = value.get(language) or []
            if not isinstance(items, list) or not all(_is_text(i) for i in items):
                self.problem(path, where + (language,), f"{what}.{language}: expected a list of texts")
                continue
            if len(items) < minimum:
                self.problem(path, where + (language,),
                             f"{what}.{language}: at least {minimum} needed, {len(items)} given")
            result[language] = tuple(str(i).strip() for i in items)
        return result

    def _entry_sources(self, path: Path, where: tuple, value: Any, entry_id: str,
                       catalogue: dict[str, dict]) -> tuple[Source, ...]:
        if not isinstance(value, list) or not value:
            self.problem(path, where, f"{entry_id}: sources are empty: name a seed, a document or a guide")
            return ()
        sources = []
        for index, item in enumerate(value):
            if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in SOURCE_KINDS:
                self.problem(path, where + (index,), f"{entry_id}: a source is one of "
                             f"{', '.join(f'{k}: ...' for k in SOURCE_KINDS)}")
                continue
            kind, name = next(iter(item.items()))
            if not isinstance(name, str) or not name.strip():
                self.problem(path, where + (index,), f"{entry_id}: empty {kind} source")
                continue
            known = catalogue[kind]
            if name not in known:
                self.problem(path, where + (index,), f"{entry_id}: unknown {kind} '{name}' (add it, with its "
                             f"title in each language, to sources.yaml under {kind}s:)")
                continue
            sources.append(Source(kind, name, dict(known[name])))
        return tuple(sources)


def _is_text(value: Any) -> bool:
    """A non-empty text; a bare number such as 12388 in a keyword list counts as its digits."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or (isinstance(value, str) and bool(value.strip()))


def _line_map(path: Path) -> dict[tuple, int]:
    """1-based line of every key and list item, by its path from the document root."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return {}
    lines: dict[tuple, int] = {}

    def walk(node: yaml.Node, where: tuple) -> None:
        lines[where] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[where + (key.value,)] = key.start_mark.line + 1
                walk_child(value, where + (key.value,), key.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, where + (index,))

    def walk_child(node: yaml.Node, where: tuple, key_line: int) -> None:
        walk(node, where)
        lines[where] = key_line  # a key's problem is reported on the key's line

    if root is not None:
        walk(root, ())
    return lines

