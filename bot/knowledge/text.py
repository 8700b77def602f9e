"""Turning questions and entries into search terms, the same way for both.

Chinese is segmented with jieba (with the domain's words added, so 销号 or 躺平 stay whole);
English words are lowercased and stemmed. Synonyms from the dictionary map every spelling of a
concept, in either language, to one term, so "closing an item" finds 销号. Stop words carry no
meaning for retrieval and are dropped, which also lets an off-topic question show itself by
the content words that nothing in the knowledge base has.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from math import prod

import jieba
import snowballstemmer
from opencc import OpenCC
from pypinyin import Style, lazy_pinyin, pinyin

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:['’][a-z]+)?")
_HAS_CJK = re.compile(rf"[{_CJK}]")
_HAS_LATIN = re.compile(r"[a-zA-Z]")

ZH_STOPWORDS = frozenset("""
的 了 吗 呢 吧 啊 呀 么 嘛 哦 哈 是 在 有 和 与 及 或 也 都 就 还 又 再 才 很 太 更 最 把 被 让 给 对 向 从 到 于 为 以
我 我们 你 你们 您 他 她 他们 它 咱 咱们 自己 人家 这 那 这个 那个 这些 那些 这样 那样 这种 那种 此 其 之 个 些 一 一个 一下 一些
什么 怎么 怎样 怎么样 如何 为什么 为何 哪 哪些 哪一年 哪年 那年 何年 哪一天 哪天 什么时候 何时 哪里 哪儿 多少 几 哪几 几个 哪几个 几种 哪几种 几项 哪几项 谁 啥 咋 怎么办 咋办 咋整 咋弄 干嘛 干吗 真的 一共 总共 还有 有人 一种 哪种 哪一种 上面 每次 属于 算不算 算 不会 我会 行不行 对不对 好不好 合规 合规吗 正常 正常吗 是否 是不是 有没有 能不能 可不可以 会不会 要不要
能 能够 可以 可 会 要 想 应该 应当 需要 得 该 请问 请 问 问一下 问下 一问 知道 告诉 说说 讲讲 介绍 介绍一下 关于 有关 方面 里面 里头
如果 要是 假如 但是 但 而 而且 因为 所以 然后 还是 或者 就是 只是 的话 时候 现在 已经 正在 没有 没 不 不是 吗 呢 么 啦 哇 嗯
俺 俺们 第几 第几条 第几项
不好意思 抱歉 打扰 打扰一下 打扰了 麻烦 麻烦问一下 麻烦问下 来着 着 下 指 啥子 听说 据说 听人说 谢谢 多谢 您好 你好
""".split())

EN_STOPWORDS = frozenset("""
a an the and or but if then than so as at by for from in into of on onto to up with without about over under
is are was were be been being am do does did doing have has had having will would shall should can could may might must
i me my mine we us our you your yours he him his she her it its they them their this that these those there here
what which who whom whose when where why how whether any some all each every no not nor only own same such too very
just also please tell know want need get got let like one ones ok okay real really actually any anyone someone thing things stuff s t don't doesn't isn't can't won't i'm it's what's
whats wat wht pls plz u ur thx hi hello ago china chinese till until ever wats
arent isnt dont doesnt didnt wasnt werent cant couldnt wouldnt shouldnt hasnt havent wont im ive youre theyre thats
aren't didn't wasn't weren't couldn't wouldn't shouldn't hasn't haven't i've you're they're that's
i'd i'll we're we've we'd let's he's she's there's d ll ve re m
sorry anyway anyways btw thanks thank hey exactly basically precisely
""".split())

# Small numbers in an English question written as words, as the entries write them: "the 4 forms".
NUMBER_WORDS = dict(zip(map(str, range(1, 13)), "one two three four five six seven eight nine ten eleven twelve".split()))

_SMALL_NUMBER = re.compile(r"(?<![\d.,:/-])\b(?:[1-9]|1[0-2])\b(?![\d.,:/-])")

# Chat spellings of English words, written out before a question is mended and stemmed.
CHAT_SPELLINGS = {
    "r": "are", "yr": "year", "yrs": "years", "govt": "government", "gov": "government", "dept": "department",
    "depts": "departments", "ppl": "people", "bc": "because", "cuz": "because", "coz": "because",
    "abt": "about", "msg": "message", "msgs": "messages", "thru": "through", "n": "and",
    "y": "why", "bcuz": "because", "wanna": "want to", "gonna": "going to", "dunno": "do not know",
    "vs": "versus", "regs": "regulations", "reg": "regulation", "foto": "photo", "fotos": "photos",
    "waht": "what", "meen": "mean",
}

# The words that make a sentence English grammar (not chat fillers such as "ok" or "pls").
EN_FRAME_WORDS = frozenset("""
what which who whom whose when where why how whether is are was were be been am do does did can could
should will would may might must shall the a an of to in for on with about from my i me we our you your
it its this that there mean means meaning whats hows whos wheres whys dont doesnt didnt cant isnt arent
tell explain define please pls
""".split())
_STEMMER = snowballstemmer.stemmer("english")
# American spellings written the British way, as the entries write them ("organization" stems to
# organiz, "organisation" to organis; "color" is not "colour"): both sides are stemmed through this.
_AMERICAN = (
    (re.compile(r"(?<=[a-z]{3})iz(e|ed|es|er|ers|ing|ation|ations|ational)$"), r"is\1"),
    (re.compile(r"yz(e|ed|es|er|ing)$"), r"ys\1"),
    (re.compile(r"^(colo|behavio|labo|favo|hono|neighbo|rumo|harbo|endeavo|humo|vigo)r(s|ed|ing|ful|al|als)?$"), r"\1ur\2"),
    (re.compile(r"^(cent|met|theat|fib)er(s)?$"), r"\1re\2"),
    (re.compile(r"^(defen|offen|licen|preten)se(s)?$"), r"\1ce\2"),
)


def british(word: str) -> str:
    """`word` in British spelling, where it is spelt otherwise in American."""
    for pattern, replacement in _AMERICAN:
        word = pattern.sub(replacement, word)
    return word


# Stemming is most of a question's cost, and a question's words are stemmed more than once (pinyin
# reading, spelling, terms): the same few thousand words recur, so their stems are remembered.
@functools.lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(british(word))
_jieba_lock = threading.Lock()
_jieba_ready = False


def normalise(text: str) -> str:
    """Full-width to half-width, compatibility forms folded, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


_TO_SIMPLIFIED = OpenCC("t2s")


def simplified(text: str) -> str:
    """A question typed in traditional characters (區分開來: from Hong Kong, Taiwan, or a phone's
    input method set so) in the simplified ones the knowledge base writes."""
    return _TO_SIMPLIFIED.convert(text) if _HAS_CJK.search(text) else text


def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (ü written v), from pypinyin's own table."""
    from pypinyin.pinyin_dict import pinyin_dict

    found = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            found.add(strip_tones(reading))
    # Interjections (嗯 n, 呣 m, 哼 hng ...) are no help and would make "won" pinyin.
    return frozenset(s for s in found if s.isalpha() and s.isascii() and any(v in s for v in "aeiouv"))


# A tone typed as a digit after its syllable ("ba1 xiang4 gui1 ding4", a phone's habit without tone
# marks): a digit 1-5 right after a letter, not inside a number ("win10").
_TONE_DIGIT = re.compile(r"(?<=[a-zA-Zv])[1-5](?![0-9])")


def strip_tones(text: str) -> str:
    """Pinyin with tone marks or tone digits to plain letters: "liú zhì" -> "liu zhi", "lǜ" -> "lv",
    "liu2 zhi4" -> "liu zhi" (digits only when two syllables at least carry one: "a4" alone stays)."""
    # Decomposed first: ǜ is one character of its own, u with diaeresis and grave only once taken apart.
    text = unicodedata.normalize("NFKD", text).replace("u\u0308", "v").replace("U\u0308", "v")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _TONE_DIGIT.sub("", text) if len(_TONE_DIGIT.findall(text)) >= 2 else text


_SYLLABLES: frozenset[str] | None = None
_LATIN_WORD = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=8192)
def pinyin_syllables(word: str) -> tuple[str, ...] | None:
    """`word` (toneless, lower case) cut into pinyin syllables, longest first where the rest can still
    be cut ("xian" stays whole); None if it is not pinyin."""
    global _SYLLABLES
    if _SYLLABLES is None:
        _SYLLABLES = _syllables()
    if not word or len(word) > 60:
        return None
    n = len(word)
    cuttable = [False] * n + [True]  # cuttable[i]: word[i:] is syllables
    for i in range(n - 1, -1, -1):
        cuttable[i] = any(cuttable[i + size] and word[i:i + size] in _SYLLABLES for size in range(1, min(6, n - i) + 1))
    if not cuttable[0]:
        return None
    syllables, i = [], 0
    while i < n:
        size = next(size for size in range(min(6, n - i), 0, -1) if cuttable[i + size] and word[i:i + size] in _SYLLABLES)
        syllables.append(word[i:i + size])
        i += size
    return tuple(syllables)


def has_chinese(text: str) -> bool:
    return bool(_HAS_CJK.search(text))


def is_pinyin_text(text: str) -> bool:
    """A question typed in pinyin: no Chinese characters, and every Latin word pinyin (at least two
    syllables in all, so "a" or "he" alone is not taken for Chinese), or all but one term of another
    language when at least three words are pinyin that spells no English word ("zhenggai taizhang
    zenme daoru, zhichi excel ma"; "how long can liuzhi last" stays English)."""
    if _HAS_CJK.search(text):
        return False
    words = _LATIN_WORD.findall(strip_tones(normalise(text)))
    cuts = [pinyin_syllables(word) for word in words]
    foreign = sum(not cut for cut in cuts)
    plainly_pinyin = sum(bool(cut) and not is_english_word(word) for word, cut in zip(words, cuts))
    return (sum(len(cut) for cut in cuts if cut) >= 2
            and (foreign == 0 or (foreign == 1 and plainly_pinyin >= 3)))


def script_of(text: str, tie: str | None = None) -> str | None:
    """The language the question is mostly written in: "zh" or "en", `tie` when neither has more,
    None when the text has no letters at all.

    Chinese characters count half a word each (a Chinese word is about two characters), a Latin
    word one: "is 躺平 punished?" is English, "整改的deadline是哪天" Chinese. A question typed
    wholly in pinyin is a tie.
    """
    chinese = len(_HAS_CJK.findall(text)) / 2
    latin_words = _LATIN_WORD.findall(strip_tones(normalise(text)))
    latin = len(latin_words)
    if not chinese and not latin:
        return None
    if not chinese and is_pinyin_text(text):
        # Pinyin is neither: typed by someone who reads Chinese without a Chinese keyboard, or by
        # a learner; the interface language the user chose says which they read.
        return tie
    if chinese and latin:
        # Both scripts: the sentence's frame (its question and function words) says which language
        # it is written in, a term quoted from the other does not: "what is 指尖上的形式主义" is
        # English, "supervisor每周收到的digest里有啥" Chinese.
        english = sum(word in EN_FRAME_WORDS for word in latin_words)
        initialise_jieba()  # once; later calls return at once
        chinese_frame = sum(token in ZH_STOPWORDS for run in re.findall(rf"[{_CJK}]+", text)
                            for token in jieba.lcut(run, HMM=False))
        if english != chinese_frame:
            return "en" if english > chinese_frame else "zh"
    if chinese > latin:
        return "zh"
    if latin > chinese:
        return "en"
    return tie


def initialise_jieba(words: Iterable[str] = ()) -> None:
    """Load jieba's dictionary once, quietly, and teach it the domain's words."""
    global _jieba_ready
    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba_ready = True
        for word in words:
            if _HAS_CJK.search(word) and " " not in word:
                _general_frequency.setdefault(word, jieba.dt.FREQ.get(word, 0))
                jieba.add_word(word, freq=20000)


# How common each domain word is in general Chinese (jieba's dictionary, before we teach it ours):
# 躺平, 留置, 销号 are specialists' words, 时限 and 村里 everyday ones.
_general_frequency: dict[str, int] = {}
SPECIALIST_FREQUENCY = 100


def is_specialist_word(word: str) -> bool:
    return _general_frequency.get(word, jieba.dt.FREQ.get(word, 0)) < SPECIALIST_FREQUENCY


COMMAND_MARK = "/"  # a bot command typed as such: a term of its own beside the word


def _raw_tokens(text: str, *, fine: bool = True) -> list[str]:
    """Words in order: jieba words for Chinese runs, stemmed words for Latin runs.

    `fine` adds the shorter words inside long ones (jieba's search mode), for entries and
    questions alike, so that a question's 证明 finds an entry's 证明事项.
    """
    tokens: list[str] = []
    text = normalise(text)
    for match in _RUN.finditer(text):
        run = match.group()
        if _HAS_CJK.match(run):
            for word in jieba.lcut(run, HMM=False):
                if word in ZH_STOPWORDS:  # and the words inside it: 哪一年 asks, its 一年 says nothing
                    continue
                if fine:
                    tokens.extend(w for w in _inner_words(word) if w not in ZH_STOPWORDS)
                tokens.append(word)
        elif run not in EN_STOPWORDS:
            tokens.append(stem(run.replace("’", "'")))
        if match.start() and text[match.start() - 1] == "/" and run.isalpha():
            tokens.append(COMMAND_MARK + run)  # "/overdue" names one feature; the word "overdue", many
    return tokens


def _inner_words(word: str) -> list[str]:
    """The dictionary words of two and three characters inside `word`, as jieba's search mode finds them."""
    frequency = jieba.dt.FREQ
    inner = []
    for size in (2, 3):
        if len(word) > size:
            inner += [word[i:i + size] for i in range(len(word) - size + 1) if frequency.get(word[i:i + size])]
    return inner


LITERAL_MARK = "="  # a synonym spelling found as typed (see Synonyms.literal)


@dataclass
class Synonyms:
    """Every spelling of a concept (single words and phrases, any language) maps to one term."""

    single: dict[str, str] = field(default_factory=dict)
    phrases: dict[tuple[str, ...], str] = field(default_factory=dict)
    longest_phrase: int = 1
    # "=find out it was me": an English phrase found as typed, stop words and all (stemmed and
    # without them it would be "find out", which is every fact-finding).
    literal: dict[str, str] = field(default_factory=dict)
    literal_pattern: re.Pattern | None = None

    @classmethod
    def build(cls, groups: Sequence[Sequence[str]]) -> "Synonyms":
        synonyms = cls()
        for number, group in enumerate(groups):
            concept = f"§{number}"
            for spelling in group:
                spelling = str(spelling)
                if spelling.startswith(LITERAL_MARK):
                    synonyms.literal[" ".join(normalise(spelling[1:]).split())] = concept
                    continue
                whole = normalise(spelling).strip()
                if _HAS_CJK.fullmatch(whole[:1] or " ") and _RUN.fullmatch(whole):
                    synonyms.single[whole] = concept  # jieba keeps a dictionary word whole
                    continue
                words = tuple(_raw_tokens(spelling, fine=False))
                if len(words) == 1:
                    synonyms.single[words[0]] = concept
                elif words:
                    synonyms.phrases[words] = concept
                    synonyms.longest_phrase = max(synonyms.longest_phrase, len(words))
        if synonyms.literal:
            phrases = sorted(synonyms.literal, key=len, reverse=True)
            synonyms.literal_pattern = re.compile(
                r"\b(?:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases) + r")\b")
        return synonyms

    def literal_concepts(self, text: str) -> list[str]:
        """The concepts of the literal phrases `text` holds, as typed."""
        if self.literal_pattern is None:
            return []
        typed = normalise(text).replace("’", "'")
        return [self.literal[" ".join(m.group().split())] for m in self.literal_pattern.finditer(typed)]

    def spellings(self) -> dict[str, frozenset[str]]:
        """Each concept with the words (single ones, and those of its phrases) that spell it."""
        words: dict[str, set[str]] = {}
        for word, concept in self.single.items():
            words.setdefault(concept, set()).add(word)
        for phrase, concept in self.phrases.items():
            words.setdefault(concept, set()).update(phrase)
        return {concept: frozenset(spelling) for concept, spelling in words.items()}

    def apply(self, tokens: list[str]) -> list[str]:
        """Add each synonym's concept beside the word itself: the concept joins the spellings,
        the word still rewards the exact one."""
        result = list(tokens)
        result += [self.single[token] for token in tokens if token in self.single]
        for size in range(2, self.longest_phrase + 1):
            for start in range(len(tokens) - size + 1):
                concept = self.phrases.get(tuple(tokens[start:start + size]))
                if concept:
                    result.append(concept)
        return result


class Analyzer:
    """Text to terms, shared by indexing and querying so that both agree."""

    def __init__(self, words: Iterable[str] = (), synonym_groups: Sequence[Sequence[str]] = ()):
        self.words = list(words) + [str(s) for group in synonym_groups for s in group
                                    if not str(s).startswith(LITERAL_MARK)]
        initialise_jieba(self.words)
        self.synonyms = Synonyms.build(synonym_groups)

    def __setstate__(self, state: dict) -> None:
        """Unpickled from the cache: jieba must learn the domain's words again in this process."""
        self.__dict__.update(state)
        initialise_jieba(self.words)

    def terms(self, text: str) -> list[str]:
        """Terms of a text (an entry's or a question): whole words and the words inside them."""
        return self.synonyms.apply(_raw_tokens(text)) + self.synonyms.literal_concepts(text)


class TypoFixer:
    """Mends words a question misspells.

    English: a word the index does not know, one edit away from one it does (a deletion index,
    as in SymSpell). Chinese: most typos come from the input method offering the wrong character
    of the right sound (消号 for 销号), and jieba then cuts the mistake into single characters, so
    the text itself is mended first: a span that sounds exactly (tones included) like a domain
    word but is not a known word is replaced by it. A span of three or four characters may differ
    in tones too (官撩主义 for 官僚主义: pypinyin reads 撩 liāo, 僚 liáo): words that long rarely
    share their toneless sound, while pairs do (shiyong: 使用, 试用, 适用).
    """

    def __init__(self, vocabulary: Iterable[str] | dict[str, int], domain_words: Iterable[str] = (),
                 other_fields: Iterable[str] = ()):
        """`vocabulary`: the known words, or a mapping of each to how common it is (how many entries
        have it): of several candidates the most common wins. `other_fields`: words of other fields
        (留置针), mended to as domain words are, but only from characters that are not part of words
        the text holds (the 作为经 of 作为经办人 sounds like 做胃镜), and never those of two characters,
        whose sound ordinary text shares (那块地 sounds like 快递)."""
        self.other_fields = {w for w in other_fields if len(w) >= 3}
        domain_words = [*domain_words, *self.other_fields]
        self.frequency = dict(vocabulary) if isinstance(vocabulary, dict) else dict.fromkeys(vocabulary, 1)
        self.vocabulary = set(self.frequency)
        self._deletes: dict[str, set[str]] = {}
        for word in self.vocabulary:
            if not word.startswith("§") and not _HAS_CJK.search(word) and len(word) >= 4:
                for variant in _deletions(word):
                    self._deletes.setdefault(variant, set()).add(word)
        self._sounds: dict[tuple[str, ...], str] = {}
        self._toneless: dict[tuple[str, ...], str] = {}
        pairs: dict[tuple[str, ...], set[str]] = {}
        blurred: dict[tuple[str, ...], set[str]] = {}
        for word in domain_words:
            if 2 <= len(word) <= 4 and all(_HAS_CJK.match(c) for c in word):
                self._sounds.setdefault(tuple(lazy_pinyin(word, style=Style.TONE3)), word)
                if len(word) >= MIN_TONELESS:
                    self._toneless.setdefault(tuple(lazy_pinyin(word)), word)
                    blurred.setdefault(_blurred(lazy_pinyin(word)), set()).add(word)
                else:
                    pairs.setdefault(tuple(lazy_pinyin(word)), set()).add(word)
        # Two characters that jieba can join to no word (趟平: 趟 and 平 alone) and that sound, but for
        # tones, like exactly one domain word were typed for it: a specialist's word (躺平) always, an
        # everyday one (提醒 for 体醒) only where neither character is common on its own (see
        # COMMON_ALONE: 是县 is text, not 时限). A real word (使用 beside 适用) or two characters each
        # part of a word (会影响: 会, 影响) is left as it is.
        self._toneless_pairs = {sound: word for sound, (word, *others) in pairs.items() if not others}
        # A long word typed as a dialect speaker's keyboard spells it (文三会海 for 文山会海: s for sh),
        # where no other domain word blurs to the same sound and the span is not words of its own.
        self._blurred = {sound: word for sound, (word, *others) in blurred.items() if not others}
        self._sizes = sorted({len(key) for key in self._sounds}, reverse=True)

    def mend_chinese(self, text: str) -> str:
        if not self._sounds or not _HAS_CJK.search(text):
            return text
        return re.sub(rf"[{_CJK}]{{2,}}", lambda run: self._mended_run(run.group()), text)

    def _mended_run(self, run: str) -> str:
        """_mend_run, remembered: a question's runs are mended for its terms and again to look for
        another field's word, and its asking sentences are runs of the whole (pinyin is most of the cost)."""
        mended = self.__dict__.setdefault("_mended", {})
        if run not in mended:
            if len(mended) >= MENDED_RUNS_KEPT:
                mended.clear()
            mended[run] = self._mend_run(run)
        return mended[run]

    def __getstate__(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "_mended"}

    def _mend_run(self, run: str) -> str:
        sounds, plain = lazy_pinyin(run, style=Style.TONE3), lazy_pinyin(run)
        # A character read in its context may take a rarer reading (查查 as zha zha, a surname):
        # each character's reading on its own is tried too.
        each = [_reading_alone(character) for character in run]
        cut: JiebaCut | None = None  # how jieba cuts the run; cut only when a rule asks
        out, i = [], 0
        while i < len(run):
            for size in self._sizes:
                span = run[i:i + size]
                word = None
                if len(span) == size:
                    word = self._sounds.get(tuple(sounds[i:i + size])) or self._sounds_other_reading(span)
                    if word is None and size >= MIN_TONELESS:
                        word = self._toneless.get(tuple(plain[i:i + size])) or self._toneless.get(tuple(each[i:i + size]))
                        candidate = None if word else self._blurred.get(_blurred(plain[i:i + size]))
                        if candidate:
                            cut = JiebaCut.of(run) if cut is None else cut
                            word = candidate if cut.typed_apart(i, size) else None
                    if word is None and size == 2 and tuple(plain[i:i + size]) in self._toneless_pairs:
                        cut = JiebaCut.of(run) if cut is None else cut
                        candidate = self._toneless_pairs[tuple(plain[i:i + size])]
                        if {i, i + 1} <= cut.alone and (is_specialist_word(candidate) or not any(map(_common_alone, span))):
                            word = candidate
                if word and (size <= MAX_SHARED_SOUND or word in self.other_fields):
                    cut = JiebaCut.of(run) if cut is None else cut
                    word = None if cut.cuts_into_words(i, size) else word
                if word and word != span and span not in self.vocabulary:
                    out.append(word)
                    i += size
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def _sounds_other_reading(self, span: str) -> str | None:
        """The domain word `span` sounds like, tones included, when one of its characters is read
        another way than its usual reading (削号: 削 is xuē, and xiāo as in 销号)."""
        readings = [_readings(character) for character in span]
        if all(len(r) == 1 for r in readings) or prod(map(len, readings)) > MAX_READINGS_TRIED:
            return None
        return next((self._sounds[sound] for sound in itertools.product(*readings) if sound in self._sounds), None)

    def fix(self, word: str) -> str | None:
        """A known English word one edit away from `word`, if any: the likeliest slip first (see
        _slip_rank: "usless" is "useless" with a letter left out before it is "unless" with one
        changed), then the most common in the knowledge base, then the alphabetically first."""
        if _HAS_CJK.search(word) or len(word) < 4:
            return None
        candidates: set[str] = set()
        for variant in _deletions(word):
            candidates |= self._deletes.get(variant, set())
        candidates = {c for c in candidates if _one_edit_apart(word, c)}
        if len(word) < MIN_SUBSTITUTED:  # hook/look, night/eight, dive/give: short words, both real
            candidates = {c for c in candidates if len(c) != len(word) or _neighbours_swapped(word, c)}
        if pinyin_syllables(word):  # a name in pinyin (Zhang, Guizhou, Heping), not a slip for "hang",
            # Huizhou, "helping"; unless it is another name with a letter left out (huizou)
            candidates = {c for c in candidates if len(c) > len(word) and pinyin_syllables(c)}
        return min(candidates, key=lambda c: (_slip_rank(word, c), -self.frequency.get(c, 0), c)) if candidates else None


# The sounds many speakers do not tell apart, and their pinyin keyboards with them (模糊音): zh/z,
# ch/c, sh/s, n/l at the start; eng/en, ing/in, ang/an at the end.
_BLUR_INITIAL = re.compile(r"^(?:([zcs])h|n(?=[aeiouv]))")
_BLUR_FINAL = re.compile(r"([eia])ng$")


def _blurred(syllables: Sequence[str]) -> tuple[str, ...]:
    return tuple(_BLUR_FINAL.sub(r"\1n", _BLUR_INITIAL.sub(lambda m: m.group(1) or "l", s)) for s in syllables)


MAX_READINGS_TRIED = 16  # of a span's characters' readings, the most combinations tried


@functools.lru_cache(maxsize=4096)
def _readings(character: str) -> tuple[str, ...]:
    """Every reading of `character`, tones included (削: xue1, xiao1, ...)."""
    return tuple(pinyin(character, style=Style.TONE3, heteronym=True)[0])


@functools.lru_cache(maxsize=20_000)
def _reading_alone(character: str) -> str:
    """A character's commonest reading, toneless, as pypinyin gives it out of context."""
    return lazy_pinyin(character)[0]


# A character this common as a word of its own (是, 好, 会, 时) is likely meant where it stands: two
# such characters beside each other are text (是县), not an everyday word mistyped (体醒 for 提醒).
COMMON_ALONE = 20_000


def _common_alone(character: str) -> bool:
    return jieba.dt.FREQ.get(character, 0) >= COMMON_ALONE


@dataclass(frozen=True)
class JiebaCut:
    """Where jieba cuts a Chinese run (`ends`: the positions after each word, and 0) and which
    positions it leaves as words of one character (`alone`)."""
    ends: frozenset[int]
    alone: frozenset[int]

    @classmethod
    def of(cls, run: str) -> "JiebaCut":
        ends, alone, at = {0}, set(), 0
        for word in jieba.lcut(run, HMM=False):
            if len(word) == 1:
                alone.add(at)
            at += len(word)
            ends.add(at)
        return cls(frozenset(ends), frozenset(alone))

    def cuts_into_words(self, start: int, size: int) -> bool:
        """The span takes part of a word jieba reads and leaves the rest of it: 里今 of 县里今年
        (县里 | 今年), which sounds like 礼金 but is no typo of it."""
        return any(self._inside_word(at) for at in (start, start + size))

    def _inside_word(self, at: int) -> bool:
        return at not in self.ends and at > 0

    def typed_apart(self, start: int, size: int) -> bool:
        """The span begins and ends where jieba cuts and holds a character it leaves alone: not
        words of its own (整改事项 is not 整改时限 blurred), nor part of a longer word (领导干部岗位
        holds no 不敢为)."""
        return (start in self.ends and start + size in self.ends
                and any(start <= at < start + size for at in self.alone))


MENDED_RUNS_KEPT = 4096  # runs whose mending TypoFixer remembers, to answer a question's parts once
MIN_TONELESS = 3     # a Chinese span this long is mended to a domain word that sounds like it but for tones
# A span this short that sounds like a domain word is mended only where it is no part of the words
# jieba reads around it: on 48 dev sets, such spans were nearly always right as typed (县里今年 is
# not 县礼金年, 谈话提醒 not 谈话题醒, 签字拍照 not 签自拍照, 会一直催 not 会议直催); a longer one
# is a typo however jieba cuts it (一安双查: 一 | 安 | 双 | 查查).
MAX_SHARED_SOUND = 3
MIN_SUBSTITUTED = 6  # a shorter word is mended by a letter missing or extra only, not a letter changed


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))} | {word}


def _neighbours_swapped(a: str, b: str) -> bool:
    """`a` is `b` with two neighbouring letters swapped (eigth, eight): a slip of the fingers, not
    another word."""
    diffs = [i for i in range(len(a)) if a[i] != b[i]] if len(a) == len(b) else []
    return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]


def _slip_rank(typed: str, meant: str) -> int:
    """0 when `typed` is `meant` with a letter left out or two neighbours swapped, the commonest
    slips of hurried typing; 1 for a letter changed or one too many."""
    return 0 if len(meant) == len(typed) + 1 or _neighbours_swapped(typed, meant) else 1


def _one_edit_apart(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns `a` into `b`."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                   and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


# Question words kept for reading pinyin, so "xiaohao zenme ban" reads as 销号怎么办 and its form
# (a procedure question) is still seen; they carry no meaning for retrieval (stop words).
PINYIN_QUESTION_WORDS = ("是什么", "什么", "什么意思", "啥意思", "怎么办", "怎么", "怎么样", "多少", "多久", "多长",
                         "几年", "哪年", "哪一年", "哪部", "哪个", "哪些", "哪里", "什么时候", "会不会", "能不能", "可不可以", "可以", "是不是", "有没有", "为什么", "如何", "那么", "一回事")


# Syllables of the commonest function words (吗 的 了 呢 吧 啊 是 会 被 在 有 和 也 都 就 我 你 他 要 能):
# meaningless when no term spells them.
PINYIN_PARTICLES = frozenset("ma de le ne ba a shi hui bei zai you he ye dou jiu wo ni ta yao neng".split())
# 的/得/地 and 了 end a phrase far more often than they end a word: an entry's other word ending in one
# (来得, 说了) is not read from pinyin.
TRAILING_PARTICLES = frozenset(("de", "le"))
MAX_PINYIN_TERMS = 20_000  # the knowledge base's other words read from pinyin, the most common first


class PinyinReader:
    """Reads pinyin in a question as the knowledge base's Chinese words.

    Built once from the knowledge base's terms (its dictionary words, keywords and synonyms first,
    then the other words of its entries, the most common first): each term's toneless syllables
    map to the term. A question wholly in pinyin ("rongcuo jiucuo shi shenme", tones or not, spaces
    or not) becomes Chinese, its unmatched syllables dropped; in an English question, a word that is
    pinyin and not English the knowledge base knows ("how long can liuzhi last") is replaced when it
    spells a term.
    """

    def __init__(self, domain_words: Iterable[str], other_words: dict[str, int] | None = None):
        self.terms: dict[tuple[str, ...], str] = {}
        # Each term's rank: 2 a dictionary word, keyword or other field's word; 1 a question word; 0 an entry's word.
        self.ranks: dict[tuple[str, ...], int] = {}
        frequency = other_words or {}
        ranked = [(w, 2) for w in domain_words] + [(w, 1) for w in PINYIN_QUESTION_WORDS]
        others = sorted((w for w in frequency if _HAS_CJK.match(w)), key=lambda w: (-frequency[w], w))
        ranked += [(w, 0) for w in others[:MAX_PINYIN_TERMS]]
        # Of homophones of one rank, the commonest in the knowledge base: "jubao yihou ji tian shouli"
        # asks when a report is 受理 (accepted), not about 收礼 (taking gifts).
        ranked.sort(key=lambda pair: (-pair[1], -frequency.get(pair[0], 0)))
        for word, rank in ranked:
            if 2 <= len(word) <= 8 and all(_HAS_CJK.match(c) for c in word):
                key = tuple(strip_tones(s) for s in lazy_pinyin(word, style=Style.NORMAL))
                if rank == 0 and key[-1] in TRAILING_PARTICLES:
                    continue  # "lai de" is 来 and 的 far more often than the 来得 of some entry's text
                if key not in self.terms:
                    self.terms[key], self.ranks[key] = word, rank
        self.longest = max((len(key) for key in self.terms), default=0)

    def spells_domain_word(self, word: str) -> bool:
        """`word` (one typed word, "xiaohao") is the pinyin of a dictionary word, keyword or synonym."""
        syllables = pinyin_syllables(strip_tones(word.lower()))
        return bool(syllables) and self.ranks.get(tuple(syllables)) == 2

    def read(self, text: str, known=lambda word: False) -> str:
        """`text` with the pinyin it holds written as the knowledge base's Chinese words."""
        if not self.terms:
            return text
        plain = strip_tones(normalise(text))
        # Pinyin among Chinese characters ("How do I file a yanqi shenqing for item 二轮-5?") is read
        # word by word, as in an English question.
        whole = not _HAS_CJK.search(plain) and is_pinyin_text(plain)
        words = list(_LATIN_WORD.finditer(plain))
        if not whole:
            # Pinyin words, neighbours together ("liuzhi" and "liu zhi" alike), where one at least is a word
            # the knowledge base does not know; a lone syllable ("pin", "fan") is English.
            words = [w for w in words if w.group() not in EN_STOPWORDS and pinyin_syllables(w.group())]
            words = [w for run in _runs(plain, words) if sum(len(pinyin_syllables(w.group())) for w in run) >= 2
                     and not all(known(w.group()) for w in run) for w in run]
        if not words:
            return text
        out, last = [], 0
        for run in _runs(plain, words):
            out.append(plain[last:run[0].start()])
            out.append(self._read_run([w.group() for w in run], whole))
            last = run[-1].end()
        out.append(plain[last:])
        return "".join(out)

    def _read_run(self, words: list[str], whole: bool) -> str:
        syllables, ends, word_at = [], set(), {}
        for word in words:
            word_at[len(syllables)] = word
            syllables += pinyin_syllables(word) or ()
            ends.add(len(syllables))
        starts = {0} | ends

        def crosses_a_word(i: int, size: int) -> bool:
            """The term takes part of a word as typed and part of the next (the 依法 of "keyi fa")."""
            inside = any(i < boundary < i + size for boundary in ends)
            return inside and (i not in starts or i + size not in ends)

        out, pending = [], []
        for i, term, size in self._cut(syllables, lambda i, size: whole or (i in starts and i + size in ends),
                                       crosses_a_word):
            if term is None:
                pending.append((i, syllables[i]))
                continue
            out.append(self._unread(pending) if whole else self._as_written(pending, word_at))
            out.append(term)
            pending = []
        out.append(self._unread(pending) if whole else self._as_written(pending, word_at))
        return " ".join(o for o in out if o)

    def _cut(self, syllables: list[str], allowed, crosses_a_word) -> list[tuple[int, str | None, int]]:
        """The syllables cut into terms so that as few terms as possible take part of one word as
        typed and part of the next ("wo shi jiandu": 监督, not the 时间 of "shi jian|du"; "keyi fa":
        not 依法), then so that terms spell as many syllables as possible, then in as few terms as
        possible, then with the words of higher rank ("bu xia dan": 下蛋, a word the dictionary lists,
        not the 不下 of some entry's text): (start, term, size), or (start, None, 1) for a syllable
        left over. Not the longest term first: in "shenme shi yi an shuang cha", 事宜 (shi yi) would
        take the yi of 一案双查."""
        count = len(syllables)
        # from i on: (-crossing, spelt, -terms, rank)
        best: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)] * (count + 1)
        choice: list[int] = [1] * (count + 1)
        for i in range(count - 1, -1, -1):
            best[i], choice[i] = best[i + 1], 1
            for size in range(2, min(self.longest, count - i) + 1):
                key = tuple(syllables[i:i + size])
                if allowed(i, size) and key in self.terms:
                    crossing, spelt, terms, rank = best[i + size]
                    cut = (crossing - crosses_a_word(i, size), spelt + size, terms - 1, rank + self.ranks[key])
                    if cut > best[i] or (choice[i] == 1 and cut == best[i]):
                        best[i], choice[i] = cut, -size
        cut, i = [], 0
        while i < count:
            size = -choice[i] if choice[i] < 0 else 0
            cut.append((i, self.terms[tuple(syllables[i:i + size])], size) if size else (i, None, 1))
            i += size or 1
        return cut

    @staticmethod
    def _as_written(pending: list[tuple[int, str]], word_at: dict[int, str]) -> str:
        """In an English question, the words no term spells stay as they were written (read only at
        word boundaries, the syllables left over are whole words)."""
        return " ".join(word_at[i] for i, _ in pending if i in word_at)

    @staticmethod
    def _unread(pending: list[tuple[int, str]]) -> str:
        """Syllables no term spells: particles (ma, de, hui, bei) are dropped, a lone syllable too; more
        are kept as one unknown word, so that what the question asks about still counts against a match."""
        syllables = [s for _, s in pending if s not in PINYIN_PARTICLES]
        return "".join(syllables) if len(syllables) >= 2 else ""


def _runs(text: str, words: list) -> list[list]:
    """Neighbouring words (only spaces between them) grouped."""
    runs: list[list] = []
    for word in words:
        if runs and not text[runs[-1][-1].end():word.start()].strip():
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


# A question's form says what kind of entry answers it. The first that matches wins: "what is the
# deadline" asks for a figure, not a definition.
QUESTION_FORMS = (
    ("figure", re.compile(r"多少|几个|几年|几种|几次|几项|几天|哪年|哪一年|那年发|那年出|多久|多长|什么时候|"
                          r"\bhow (?:many|much|long)\b|\b(?:what|which) year\b|^\W*when\b|\bwhat(?:'s| is| are) the (?:deadlines?|time limits?)\b")),
    ("definition", re.compile(r"什么是|是什么(?!时候)|什么意思|啥意思|是啥|是指|指什么|指的是|什么叫|啥叫|何为|何谓|含义|"
                              r"^\W*(?:(?:what|wh?at|wht)\s+(?:is|are|does|do)|what'?s)\b(?!.*\b(?:rules?|allowed|say|says|require|requires)\b)|"
                              r"\bmean(?:s|ing)?\b|\bdefin")),
    ("procedure", re.compile(r"怎么办|咋办|怎么(?:申请|操作|查|提交|办|弄|做|报|用|处理)|如何|怎样|流程|步骤|"
                             r"\bhow (?:do|can|should|could) (?:i|we|you)\b|\bhow to\b|\bsteps?\b")),
    ("rule", re.compile(r"会不会|能不能|可不可以|是否|允许|合规|算不算|能否|会被|可以.*吗|"
                        r"^\W*(?:can|may|must|should|will|would|am|is|are)\b|\ballowed\b|\bpunish")),
)


def question_form(text: str) -> str | None:
    """The kind of entry a question asks for (definition, figure, procedure, rule), if its form says."""
    text = normalise(text)
    for kind, pattern in QUESTION_FORMS:
        if pattern.search(text):
            return kind
    return None


# What a question asks for beyond its kind: a year, or a number (a count, an amount, a length of
# time, a deadline). An entry whose answer states no such thing does not answer it, however well
# its words match: "when was the Eight-point Regulation adopted" is not answered by an entry on
# the regulation that gives no year.
ASKED_FACTS = (
    ("year", re.compile(r"哪一?年|何年|(?:什么时候|何时)(?:开始)?(?:出台|通过|施行|实施|生效|印发|修订|修改|发布|制定|颁布|提出)|"
                        r"\bwhen (?:was|were|did)\b|\b(?:what|which) year\b|\bsince when\b")),
    ("number", re.compile(r"多少|多久|多长|(?<!哪)几(?:个|天|年|种|项|次|类|条|级|月|日|倍)|期限|时限|"
                          r"\bhow (?:many|much|long)\b|\bdeadlines?\b|\btime limits?\b")),
)
STATED_FACTS = {
    "year": re.compile(r"(?:19|20)\d\d"),
    "number": re.compile(r"\d|[一二两三四五六七八九十百千万半]+(?:个|种|项|年|月|天|日|次|类|条|级|倍|分之)|"
                         r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
                         r"thirty|hundred|half)\b|"
                         # an answer saying that no such figure is set answers "how much" too
                         r"统一(?:的)?(?:金额|标准|数额)|\bno (?:national|uniform|single|fixed) (?:amount|figure|limit|standard)"),
}


# "第一轮-3", "二轮-5", "R2-5": a ledger item's code, as reminders write it (or an English speaker
# does). It names the asker's item, not what they ask about, and its pieces (第一, 一轮, 3) are rare
# words that outweighed the question's.
_ITEM_CODE = re.compile(r"第?[一二三四五六七八九十两\d]+轮\s*[-—－_]\s*\d+(?:号)?|\b[rR]\d+\s*[-—－_]\s*\d+\b")


def without_item_codes(text: str) -> str:
    """`text` without the item codes it holds, unless it asks what one means ("二轮-3是什么意思")."""
    return text if question_form(text) == "definition" else _ITEM_CODE.sub(" ", text)


# "哪四个", "哪五种": the count asks for a list, it names nothing (四风是哪四个 is 四风是哪些).
_WHICH_COUNT = re.compile(r"哪(?:[一二三四五六七八九十两几]|\d)+[个种条项类点样]")


def without_counted_which(text: str) -> str:
    return _WHICH_COUNT.sub("哪些", text)


# What is said around a question and is no part of it: the courtesies ("Sorry for the technical
# question, but …", "Apologies for the long message", "Thank you very much!", "Good afternoon") and
# where the asker met its subject ("the four forms I keep reading about in the news", as 听说 is a
# stop word). Their words are in no entry, so they counted against every match, and a polite asker
# was told "did you mean" or nothing. Only an apology for the asking itself goes: "sorry for
# reporting my colleague" is what they ask about.
_ASIDES = re.compile(
    r"\b(?:sorry|apologies|apologi[sz]e|excuse me|pardon me)\b(?:\s+(?:for|about)\s+(?:\S+\s+){0,3}?"
    r"(?:questions?|message|ignorance|english|trouble|bother(?:ing you)?|interruption|disturbance|long one|asking)\b)?|"
    r"\bthank(?:s| you)\b(?:\s+(?:very|so) much|\s+a lot|\s+in advance)?|\b(?:many|much) thanks\b|"
    r"\bgood (?:morning|afternoon|evening|day)\b|\b(?:hello|hi|dear) (?:there|sir|madam|all)\b|"
    r"\b(?:that )?(?:i |we )?keep (?:reading|hearing|seeing) about\b|\bkeeps? coming up\b|"
    r"\b(?:(?:i )?(?:heard|read|saw) )?(?:on|in) (?:the )?(?:chinese |discipline |local |official )?news"
    r"(?: something like)?\b", re.IGNORECASE)


def without_asides(text: str) -> str:
    return _ASIDES.sub(" ", text)


def asked_facts(text: str) -> frozenset[str]:
    """The facts a question asks for ("year", "number"), if its words say."""
    text = normalise(text)
    return frozenset(fact for fact, pattern in ASKED_FACTS if pattern.search(text))


def stated_facts(text: str) -> frozenset[str]:
    """The facts a text (an entry's answer) states."""
    text = normalise(text)
    return frozenset(fact for fact, pattern in STATED_FACTS.items() if pattern.search(text))


# A space between Chinese words ends a sentence too: typed on a phone, "文山会海有没有文件管
# 听说2019年是啥子减负年" is two questions without a mark (not one Chinese character between
# spaces: "政务处分 和 party discipline").
_SENTENCE_END = re.compile(rf"(?<=[。！？!?；;\n…])|(?<=[.])\s+|(?<=[{_CJK}]{{2}})\s+(?=[{_CJK}]{{2}})")
# A sentence asks plainly: a question mark, a final particle (吗/呢/吧) or question word (都有哪些) at its
# end, an A-not-A form (合规不合规, 有没有), 怎么办, "I (also) want to know", "not sure whether" (not a
# story's "whether it's a flood or a complaint"), or an English sentence that opens with a question
# word (or has one after "so", "but": a "will" or "may" there tells the story).
_ASKS_PLAINLY = re.compile(
    r"[?？]|[吗呢吧][啊呀哈]?\W*$|怎么办|咋办|是否|能不能|会不会|可不可以|可以不|有没有|算不算|是不是|对不对|行不行|"
    r"(\w{1,2})不\1|想问|想知道|请问|问一下|问问|"
    # a question someone passed on ("有同志问巡视工作条例最近一次是哪年修订的", "my boss asked which year")
    r"问[^。！？!?，,]{0,30}?(?:哪|什么|啥|多少|多久|几(?![十百千万乎])|谁|怎么|如何|是否|有没有)|"
    r"\basked (?:me |us )?(?:which|what|when|how|whether|why|who)\b|"
    r"\b(?:i (?:also |really )?(?:want|need) to know|i(?:'d| would)(?: also)? like to (?:know|understand)|i (?:also )?wonder|"
    r"my question is|(?:please )?(?:also )?tell me|(?:know|ask|asking|wonder|wondering|sure|check|confirm|clarify) whether)\b|"
    r"(?:怎么|什么|啥|多少|多久|哪些|哪里|哪儿|谁)[啊呀]?\W*$|"
    r"^\W*(?:how|what|whats|wat|which|who|when|why|can|could|is there|are there|does|do|did|will|should|may|"
    r"am i|is it|is this|is that|is|are|was)\b|"
    r"(?:[,:]\s*|\b(?:so|and|but|then|now|ok|please)\s+)(?:how|what|whats|which|who|when|why)\b", re.IGNORECASE)
# Words that ask inside a story too (几天, 什么时候, "did not know what to do"): a sentence holding only
# these asks when no sentence asks plainly.
_ASKS = re.compile(r"怎么|什么|啥|咋|多少|多久|几(?![十百千万乎])|哪(?!怕)|谁|如何|"
                   r"\b(?:how|what|whats|wat|which|who|when|why|can|could|does|will|should|may)\b", re.IGNORECASE)
# Who asks, said before the question: their office's words (信访室, a township) are not what they ask about.
_INTRODUCTION = re.compile(r"(?:我是|俺是|本人是|我在)[^，,。！？!?；;]{2,30}[，,]\s*|"
                           r"(?:i'?m|i am|i work)\b[^,.!?;]{2,80}[,.]\s+", re.IGNORECASE)
LONG_QUESTION_CHARS = 60  # shorter than this a question is read whole (a Chinese character counts as two)


def _reading_length(text: str) -> int:
    """The length of a text with a Chinese character counted twice: a Chinese word is about two
    characters, an English one about six, so 40 Chinese characters tell as much as 80 Latin ones."""
    return len(text) + sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


def asking_part(text: str) -> str | None:
    """Of a long question (several sentences, some only telling the story), the sentences that ask
    plainly, or failing those the ones holding a question word; of a short one that opens by saying
    who asks ("我是县纪委信访室的，新收到的举报在哪里看"), what follows; None when the question is
    short or every sentence asks."""
    return _asking_sentences(text) or _after_introduction(text)


def sentences_of(text: str) -> list[str]:
    """The sentences of `text`, stripped, in order."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def asking_sentences_of(text: str) -> list[str]:
    """The sentences of `text` that ask, plainly or with a question word, in order."""
    return [s for s in sentences_of(text) if _asks(s)]


def _asks(text: str) -> bool:
    """`text` asks, plainly or with a question word."""
    return bool(_ASKS_PLAINLY.search(text) or _ASKS.search(text))


def _asking_sentences(text: str) -> str | None:
    if _reading_length(text) < LONG_QUESTION_CHARS:
        return None
    sentences = sentences_of(text)
    if len(sentences) < 2:
        return None
    asking = [s for s in sentences if _ASKS_PLAINLY.search(s)] or [s for s in sentences if _ASKS.search(s)]
    if not asking or len(asking) == len(sentences):
        return None
    return " ".join(asking)


def _after_introduction(text: str) -> str | None:
    introduced = _INTRODUCTION.match(text.strip())
    rest = text.strip()[introduced.end():] if introduced else ""
    return rest if rest and _asks(rest) else None


# Where one question ends and the next begins inside a sentence: "X算不算过度留痕，我们可以向哪里反映",
# "how many were found, and what happens if ...".
_CLAUSE_END = re.compile(r"[，,；;]\s*(?:(?:and|but|also|or)\s+|(?:还有|另外|那|以及|并且|而且)\s*)?|\s+(?:and|also)\s+(?=(?:how|what|which|who|when|why|can|could|is|are|does|do|will|should)\b)")


def asked_parts(text: str) -> list[str]:
    """The separate questions one message asks ("是不是过度留痕？可以向哪里反映？"), each a clause
    that asks on its own; fewer than two: an empty list."""
    return [part for part, _ in asked_parts_with_leads(text)]


MAX_LEAD_CLAUSES = 3  # a question's lead: at most this many clauses of its sentence before it


def asked_parts_with_leads(text: str) -> list[tuple[str, str]]:
    """asked_parts, each with its sentence up to the part's end: what a part too short to look up
    ("这是啥原因") asks about ("图上单位名都是拼音，不是汉字，这是啥原因")."""
    parts = []
    for sentence in sentences_of(asking_part(text) or text):
        start = 0
        for number, end in enumerate([*(m for m in _CLAUSE_END.finditer(sentence)), None]):
            clause = sentence[start:end.start() if end else len(sentence)].strip()
            lead = sentence[:end.start() if end else len(sentence)].strip()
            start = end.end() if end else start
            if not clause or (number and _RELATIVE.match(clause) and not _QUESTION_MARK.search(sentence)):
                continue
            if _asks(clause) and not _ONLY_ANNOUNCES.search(clause):
                # A long sentence before the question is a story ("...机器人一直给我发红色提醒，局长问我怎么办"), not its subject.
                parts.append((clause, lead if number <= MAX_LEAD_CLAUSES else clause))
    return parts if len(parts) >= 2 else []


# "my brother-in-law, who works in the township office, was next to me.": after a comma, in a
# sentence that asks nothing, "who" opens a relative clause, not a question.
_RELATIVE = re.compile(r"\s*(?:who|whom|whose)\b", re.IGNORECASE)
_QUESTION_MARK = re.compile(r"[?？]")


# A clause that only announces the question to come ("领导让我问一下", "I want to ask"): it asks nothing.
_ONLY_ANNOUNCES = re.compile(r"(?:问一下|问下|问问|想问|请问|咨询一下|i (?:want|would like|'d like) to ask|a question)\W*$", re.IGNORECASE)


# Asking the bot what it can do, in words that are all stop words ("what can you do", 你能干啥) or
# nearly ("help", 帮助, 怎么用): such a question has nothing to search for, yet it has an answer.
_ABOUT_THE_BOT = re.compile(
    r"(?:(?:hi|hello|hey)\W*)?(?:help(?:\s+me)?|what\s+(?:can|could|do|does)\s+(?:you|the\s+bot|this\s+bot|qingfeng)\s+do"
    r"(?:\s+for\s+me)?|what\s+are\s+you(?:\s+for)?|who\s+are\s+you|how\s+(?:do\s+i|to)\s+use\s+(?:you|this|it)|"
    r"what\s+can\s+i\s+(?:do|ask)(?:\s+(?:here|you))?)"
    r"|(?:你好\W*)?(?:你|您|机器人|这个机器人|清风)?(?:能|可以|会)(?:做|干|帮我做|帮我干|帮我)?(?:些)?(?:什么|啥|哪些)(?:事|事情)?|"
    r"(?:你|您)是(?:谁|干什么的|做什么的|干啥的)|帮助|求助|怎么用|如何使用|怎么使用|使用说明|我能问(?:什么|啥)|能问(?:什么|啥)")


def asks_about_the_bot(text: str) -> bool:
    """The question only asks what the bot can do ("what can you do?", "help", 你能做什么)."""
    return bool(_ABOUT_THE_BOT.fullmatch(re.sub(r"[\s\W]+$|^[\s\W]+", "", normalise(text))))


class OtherFields:
    """Words that only another field uses (留置针 in a hospital, 留置权 in the civil code, a credit
    card's 逾期, a parcel's status): a question holding one shares the domain's words but not its
    subject, so it is declined, however well those shared words match. Chinese words are found
    anywhere in the question (a number such as 12315 too), English ones as whole words (a plural -s
    allowed), which a Chinese character beside them ends as a space does."""

    def __init__(self, words: Iterable[str] = ()):
        words = [normalise(w).strip() for w in words if w and w.strip()]
        english = [w for w in words if _LATIN_WORD.search(w) and not _HAS_CJK.search(w)]
        chinese = [re.escape(w) for w in words if w not in english]
        latin = [r"\s+".join(map(re.escape, w.split())) for w in english]
        # Whole words of Latin letters: a Chinese character beside one ends it too (VLOOKUP把).
        parts = chinese + ([rf"(?<![a-z0-9])(?:{'|'.join(latin)})s?(?![a-z0-9])"] if latin else [])
        self.pattern = re.compile("|".join(parts)) if parts else None

    def found(self, text: str) -> str | None:
        """The first other field's word in `text`, if any."""
        if self.pattern is None:
            return None
        match = self.pattern.search(normalise(text))
        return match.group() if match else None


@functools.cache
def english_words() -> dict:
    """pyspellchecker's English word list (words of subtitles, typos left out), read once."""
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1).word_frequency.dictionary


def is_english_word(word: str) -> bool:
    """An English word, though no entry writes it: "spring" is not a typo of "sparing", nor "binders"
    of "hinders"."""
    return word in english_words()


def english_stems(text: str) -> set[str]:
    """The stems of the English words in `text` (see is_english_word)."""
    return {stem(word) for word in _LATIN_WORD.findall(normalise(text)) if is_english_word(word)}


class EnglishSpelling:
    """Mends an English word of a question that the knowledge base does not know into the word it
    most likely meant, before stemming: "formalsm" is one letter from "formalism", but two from its
    stem "formal", so mending stems alone misses it. Candidates are the words the entries write, one
    edit away (as TypoFixer finds them), the one whose stem most entries use winning."""

    def __init__(self, words: dict[str, str], stem_frequency: dict[str, int]):
        """`words`: each English word the entries write, with its stem."""
        self.stems = words
        self.fixer = TypoFixer({word: stem_frequency.get(stem, 0) for word, stem in words.items()})

    @classmethod
    def of_texts(cls, texts: Iterable[str], stem_frequency: dict[str, int]) -> "EnglishSpelling":
        words: dict[str, str] = {}
        for text in texts:
            for word in _LATIN_WORD.findall(normalise(text)):
                if len(word) >= 4 and word not in EN_STOPWORDS and word not in words:
                    words[word] = stem(word)
        return cls(words, stem_frequency)

    def mend(self, text: str, known) -> str:
        """`text` with each Latin word whose stem `known` rejects replaced by its likeliest spelling."""
        if not _HAS_LATIN.search(text):
            return text
        text = _SMALL_NUMBER.sub(lambda match: NUMBER_WORDS[match.group()], text)

        def mend_word(match: re.Match) -> str:
            word = CHAT_SPELLINGS.get(match.group(), match.group())
            if word in EN_STOPWORDS or len(word) < 4 or known(stem(word)) or is_english_word(word):
                return word
            return self.fixer.fix(word) or word

        return _LATIN_WORD.sub(mend_word, normalise(text))
