"""The knowledge base: checking files, ranking, confidence, typos, gaps, and the CLI."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from bot.knowledge.engine import Band, KnowledgeEngine
from bot.knowledge.index import SearchIndex
from bot.knowledge.render import entry_html, entry_plain
from bot.knowledge.schema import KnowledgeError, check_knowledge, load_knowledge
from bot.knowledge.service import KnowledgeService
from bot.knowledge.text import (PinyinReader, TypoFixer, asked_parts, asked_parts_with_leads, asking_part, question_form,
                                script_of)
from bot.messages import split_text

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


NOTICE_2019 = "《关于解决形式主义突出问题为基层减负的通知》"


def write_kb(folder: Path, entries: list[dict], topic: str = "burden-reduction") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topics.yaml").write_text(yaml.safe_dump({"topics": [
        {"id": topic, "title": {"zh": "减负", "en": "Burden"}, "description": {"zh": "减负", "en": "Burden"}}]},
        allow_unicode=True), encoding="utf-8")
    (folder / "sources.yaml").write_text(yaml.safe_dump({"documents": {NOTICE_2019: {
        "zh": f"{NOTICE_2019}（2019年）", "en": f"Notice on reducing the burden on the grassroots ({NOTICE_2019}, 2019)"}}},
        allow_unicode=True), encoding="utf-8")
    (folder / f"{topic}.yaml").write_text(yaml.safe_dump({"topic": topic, "entries": entries}, allow_unicode=True,
                                                          sort_keys=False), encoding="utf-8")
    return folder


def entry(entry_id: str, zh: str, en: str, **extra) -> dict:
    return {
        "id": entry_id,
        "question": {"zh": zh, "en": en},
        "paraphrases": {"zh": [zh + "吗", "请问" + zh, zh + "呢"], "en": [en + "?", "tell me " + en, en + " please"]},
        "answer": {"zh": f"{zh}的回答。", "en": f"Answer about {en}."},
        "sources": [{"document": NOTICE_2019}],
        **extra,
    }


# -- the shipped knowledge base ---------------------------------------------------------------

def test_shipped_knowledge_base_is_clean_and_large_enough():
    assert check_knowledge(KNOWLEDGE) == []
    knowledge = load_knowledge(KNOWLEDGE)
    assert len(knowledge.entries) >= 120
    for topic in knowledge.topics:
        assert knowledge.in_topic(topic), f"topic {topic} has no entries"


# -- checking ----------------------------------------------------------------------------------

def test_problems_name_the_file_and_line(tmp_path):
    folder = write_kb(tmp_path / "kb", [entry("a-one", "会议太多", "too many meetings", related=["nope"]),
                                        entry("a-one", "文件太多", "too many documents")])
    text = (folder / "burden-reduction.yaml").read_text(encoding="utf-8")

    problems = [str(p) for p in check_knowledge(folder)]
    lines = text.splitlines()

    def line_of(fragment: str, occurrence: int = 1) -> int:
        found = [n for n, line in enumerate(lines, 1) if fragment in line]
        return found[occurrence - 1]

    assert any(p.endswith(f"burden-reduction.yaml:{line_of('- nope')}: a-one: related entry 'nope' does not exist")
               for p in problems), problems
    assert any(f"burden-reduction.yaml:{line_of('id: a-one', 2)}: duplicate id 'a-one'" in p for p in problems), problems


def test_a_title_cut_at_an_unquoted_comma_is_reported_with_its_line(tmp_path):
    # {en: Letters, visits and reports} is YAML for en: "Letters" plus a key "visits and reports".
    folder = write_kb(tmp_path / "kb", [entry("a-one", "会议太多", "too many meetings")])
    (folder / "topics.yaml").write_text("topics:\n  - id: burden-reduction\n"
                                        "    title: {zh: 信访举报, en: Letters, visits and reports}\n"
                                        "    description: {zh: 减负, en: Burden}\n", encoding="utf-8")
    problems = [str(p) for p in check_knowledge(folder)]
    assert any("topics.yaml:3" in p and "'visits and reports'" in p and "quoted" in p for p in problems), problems


def test_a_document_is_shown_with_its_year_in_each_language_and_an_unlisted_one_is_reported(tmp_path):
    cited = entry("a-one", "会议太多", "too many meetings")
    unlisted = entry("a-two", "文件太多", "too many documents", sources=[{"document": "《某某规定》"}])
    problems = check_knowledge(write_kb(tmp_path / "kb", [cited, unlisted]))
    assert [(p.file.endswith("burden-reduction.yaml"), "unknown document '《某某规定》'" in p.message) for p in problems] \
        == [(True, True)]
    assert problems[0].line > 1
    knowledge = load_knowledge(write_kb(tmp_path / "ok", [cited]))
    assert entry_plain(knowledge.entries["a-one"], "zh").endswith("（2019年）")
    assert "Notice on reducing the burden" in entry_plain(knowledge.entries["a-one"], "en")


def test_the_shipped_answers_name_each_document_in_english_with_the_version_they_rest_on():
    knowledge = load_knowledge(KNOWLEDGE)
    sanctions = [e for e in knowledge.entries.values() if any("纪律处分条例" in s.value for s in e.sources)]
    assert sanctions and all("revised 2023" in entry_plain(e, "en") for e in sanctions)
    assert all("2023年修订" in entry_plain(e, "zh") for e in sanctions)


def test_missing_translation_and_empty_sources_are_reported(tmp_path):
    broken = entry("a-one", "会议太多", "too many meetings", sources=[])
    del broken["answer"]["en"]
    problems = [p.message for p in check_knowledge(write_kb(tmp_path / "kb", [broken]))]
    assert "a-one: answer: missing translation 'en'" in problems
    assert any("sources are empty" in p for p in problems)


def test_yaml_syntax_error_points_at_its_line(tmp_path):
    folder = write_kb(tmp_path / "kb", [entry("a-one", "会议", "meetings")])
    (folder / "burden-reduction.yaml").write_text("topic: burden-reduction\nentries:\n  - id: [unclosed\n", encoding="utf-8")
    (problem,) = check_knowledge(folder)
    assert problem.file.endswith("burden-reduction.yaml") and problem.line >= 3
    assert "YAML syntax" in problem.message


def test_a_failed_reload_keeps_the_old_knowledge_base(tmp_path):
    folder = write_kb(tmp_path / "kb", [entry("a-one", "会议太多怎么办", "too many meetings")])
    service = KnowledgeService(folder, None)
    (folder / "burden-reduction.yaml").write_text("entries: [", encoding="utf-8")
    assert service.current_fingerprint() != service.knowledge.fingerprint
    problems = service.reload()
    assert problems and "YAML syntax" in problems[0].message
    assert service.ask("会议太多怎么办").best.entry.id == "a-one"


def test_a_broken_knowledge_base_cannot_be_loaded(tmp_path):
    folder = write_kb(tmp_path / "kb", [entry("A B", "会议", "meetings")])
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    assert "burden-reduction.yaml:" in str(caught.value)


# -- ranking -----------------------------------------------------------------------------------

def test_small_knowledge_base_still_ranks_by_the_shared_word():
    """With Okapi's IDF a word in half the documents scores zero or less; the smoothed IDF keeps it positive."""
    index = SearchIndex([{"meet": 1.0}, {"meet": 1.0, "document": 1.0}])
    scores = index.score(["meet"])
    assert all(scores.score > 0)
    assert index.term_idf("meet") > 0


def test_tiny_knowledge_base_answers_its_own_questions(tmp_path):
    folder = write_kb(tmp_path / "kb", [entry("a-meetings", "会议太多怎么办", "too many meetings"),
                                        entry("a-documents", "文件太多怎么办", "too many documents")])
    engine = KnowledgeEngine(load_knowledge(folder))
    assert engine.ask("会议太多怎么办").best.entry.id == "a-meetings"
    assert engine.ask("too many documents").best.entry.id == "a-documents"


def test_an_entry_kind_must_be_one_of_the_five(tmp_path):
    folder = write_kb(tmp_path / "kb", [entry("a-meetings", "会议太多怎么办", "too many meetings", kind="definiton")])
    problems = [str(p) for p in check_knowledge(folder)]
    assert any("kind 'definiton' is not one of definition, rule, procedure, figure, case" in p for p in problems)
    folder = write_kb(tmp_path / "ok", [entry("a-meetings", "会议太多怎么办", "too many meetings", kind="procedure")])
    assert not check_knowledge(folder)
    assert load_knowledge(folder).entries["a-meetings"].kind == "procedure"


@pytest.mark.parametrize("question, form", [
    ("文山会海啥意思", "definition"), ("什么是销号", "definition"), ("what does 销号 mean", "definition"),
    ("留党察看最长几年", "figure"), ("how many items were found", "figure"), ("整改是什么时候", "figure"),
    ("销号怎么办", "procedure"), ("how do I check my report", "procedure"),
    ("躺平会不会被处分", "rule"), ("can I be punished for this", "rule"), ("is 躺平 punished?", "rule"),
    ("公款吃喝", None)])
def test_the_form_of_a_question_says_what_kind_of_entry_it_wants(question, form):
    assert question_form(question) == form


def test_a_definition_question_prefers_the_definition(tmp_path):
    """A case that names the term often outranks the definition, until the question's form counts."""
    case = entry("a-case", "某县销号的案例", "a county closing items", kind="case")
    case["answer"] = {"zh": "某县销号销号销号的做法。", "en": "A county closing items, closing items, closing items."}
    case["keywords"] = {"zh": ["销号"], "en": ["closing"]}
    definition = entry("a-definition", "整改事项的销号", "closing rectification items", kind="definition")
    definition["answer"] = {"zh": "销号指整改事项经审核后从台账中移除。", "en": "Closing an item means ..."}
    folder = write_kb(tmp_path / "kb", [case, definition])
    engine = KnowledgeEngine(load_knowledge(folder))
    assert engine.search("销号", 2)[0].entry.id == "a-case"
    assert engine.search("销号是什么意思", 2)[0].entry.id == "a-definition"
    assert engine.ask("销号是什么意思").best.entry.id == "a-definition"


def test_a_long_question_is_read_by_the_sentences_that_ask():
    story = "我们镇上个月来了三拨检查，农业、环保、乡村振兴都有。每拨都要看台账，还要陪同一整天，村里就四个干部。"
    assert asking_part(story + "这种重复检查有没有规定可以管？") == "这种重复检查有没有规定可以管？"
    english = ("I'm a township cadre in Guizhou. Every week the county sends us four forms. "
               "Is this formalism? Can I report it here?")
    assert asking_part(english) == "Is this formalism? Can I report it here?"
    assert asking_part("整改问题怎样才能销号？") is None                       # short: read whole
    assert asking_part(story) is None                                          # nothing asks: read whole


def test_a_message_asking_two_things_gets_both_answers(engine):
    two = engine.ask("容错纠错是什么意思？三个区分开来是哪三条？")
    assert [entry.id for entry in two.entries] == [engine.ask("容错纠错是什么意思？").best.entry.id,
                                                   engine.ask("三个区分开来是哪三条？").best.entry.id]
    story = engine.ask("我们村一个月开了十几次会，天天拍照留痕。这算不算过度留痕？给我的回执码丢了还能找回吗？")
    assert {"ff-excessive-traces", "ub-receipt-code"} == {entry.id for entry in story.entries}
    assert len(engine.ask("过度留痕是什么意思？").entries) == 1       # one question, one answer
    both = engine.ask("容错纠错到底指什么，村里搞试点没搞成会不会挨处分")   # one sentence, two questions
    assert {entry.id for entry in both.entries} == {engine.ask("容错纠错到底指什么").best.entry.id,
                                                     engine.ask("村里搞试点没搞成会不会挨处分").best.entry.id}
    # A part of one rare word ("需要准备什么材料", "is it a trend") answers nothing by itself.
    assert engine.ask("我和老公想协议离婚，房子怎么分，需要准备什么材料").band is not Band.ANSWER
    assert engine.ask("what does lying flat mean for young tech workers, is it a trend").band is not Band.ANSWER
    # Clauses that only announce the question or count things ask nothing of their own.
    assert asked_parts("单位领导让我问一下，这种问题也必须按期整改完才能销号吗") == []
    assert asked_parts("台账一百多条，几十个责任单位。我需要怎么操作？") == []


def test_the_sentence_that_asks_is_found_without_a_question_mark():
    story = "我们村离镇上四十里路，人手就三个。上个月县农业局说属地管理，把他们的安全检查全推给我们村干。"
    assert asking_part(story + "我想问一下这样做合规不合规") == "我想问一下这样做合规不合规"   # 想问, A-not-A
    assert asking_part(story + "这样搞对吗") == "这样搞对吗"                                   # a final 吗
    english = ("Our county bureau keeps pushing its own safety checks onto us villages. "
               "We have no staff and no budget for it. I want to know if they are allowed to do that")
    assert asking_part(english) == "I want to know if they are allowed to do that"
    # "I'd also like to know" asks as "I'd like to know" does; a story's "whether it's a flood or a
    # complaint" does not ask at all (it read as the question, and a case entry answered).
    also = english + ". I'd also like to know which law covers government sanctions"
    assert asked_parts(also)[-1] == "I'd also like to know which law covers government sanctions"
    concessive = ("Every time something goes wrong in our county, whether it's a flood or a complaint, the lowest "
                  "cadre gets blamed. Are there rules about how accountability is decided?")
    assert asking_part(concessive) == "Are there rules about how accountability is decided?"


def test_question_words_inside_the_story_do_not_hide_the_question():
    # 几天 and 几种 tell the story; the sentence ending in 哪些 is the question.
    chinese = "单位同事有人说我违反了纪律要给处分，吓得我几天睡不着。我连处分有几种都不知道。党纪处分都有哪些"
    assert asking_part(chinese) == "党纪处分都有哪些"
    english = ("My colleague told me I broke a rule and will get a sanction. I have been worried for days and "
               "did not know what to do. So what kinds of party sanctions exist")
    assert asking_part(english) == "So what kinds of party sanctions exist"


def test_a_chinese_question_of_two_sentences_is_long_at_fewer_characters():
    question = "我们局上次巡察提了七个问题，整改台账做好了，到期了还有两个没完成，上面天天催。到期没完成会怎么样啊"
    assert len(question) < 60
    assert asking_part(question) == "到期没完成会怎么样啊"


def test_a_long_question_with_its_question_at_the_end_finds_its_entry(engine):
    question = ("我们局上次巡察提了七个问题，整改台账做好了，到期了还有两个没完成，上面天天催。到期没完成会怎么样啊")
    assert engine.ask(question).best.entry.id == "ir-deadlines-reminders"
    english = ("I was given an admonishment after an accountability case last year. Now there is a promotion "
               "opening in my unit and my boss says it is too early. Can I still be promoted after being held accountable")
    answer = engine.ask(english)
    assert answer.band is Band.ANSWER and answer.best.entry.id == "ac-after-accountability"


def test_detail_does_not_drown_a_long_question(engine):
    short = engine.ask("整改没到位、没销号的干部能调岗吗").best.entry.id
    story = ("我们局上一轮巡察一共收到十四个整改问题，分管的副局长下个月想调到别的局去，可是还有五个问题没有整改完，"
             "单位里议论纷纷，大家说法不一。有同事说问题没销号他就走不了。这是真的规定吗？整改没到位没销号能调岗吗？")
    assert engine.ask(story).best.entry.id == short


def test_a_long_question_also_answers_its_asking_sentence_when_the_story_pulls_elsewhere(tmp_path):
    """The story (a report of clocking in on apps) matches the entry on reporting best; the sentence
    that asks (how do I check its progress?) is answered too, by the entry it matches read alone."""
    fillers = [("公车", "official cars"), ("宴请", "banquets"), ("出差", "travel"), ("礼金", "cash gifts"),
               ("培训", "training"), ("考核", "assessment"), ("督查", "supervision"), ("评比", "rankings"),
               ("调研", "field research"), ("挂牌", "plaques"), ("台账", "ledgers"), ("问责", "accountability")]
    folder = write_kb(tmp_path / "kb", [
        entry("a-report", "怎样匿名举报乡镇要求每天在APP上打卡上传照片的形式主义",
              "how to report townships making villages clock in on apps and upload photos"),
        entry("a-status", "怎样凭回执码查询处理进度", "how to check the progress with the receipt code"),
        *(entry(f"a-filler-{n}", f"{word}的规定", f"rules on {english}") for n, (word, english) in enumerate(fillers))])
    engine = KnowledgeEngine(load_knowledge(folder))
    story = ("乡镇要求每天在APP上打卡，每天上传照片，打卡上传照片占了大半天，这是形式主义。"
             "我匿名举报了乡镇每天在APP上打卡上传照片的形式主义。怎样查询处理进度？")
    answer = engine.ask(story)
    assert answer.band is Band.ANSWER and answer.best.entry.id == "a-report"
    assert [entry.id for entry in answer.entries] == ["a-report", "a-status"]
    assert [entry.id for entry in engine.ask("怎样查询处理进度？").entries] == ["a-status"]


def test_two_entries_the_words_cannot_tell_apart_are_both_sent_and_a_clear_winner_alone(tmp_path):
    """A question that two entries match about equally well ("how is an item closed": the review rule
    and the bot's closing request) gets both, best first; one that a single entry matches clearly
    gets that one only."""
    fillers = [("公车", "official cars"), ("宴请", "banquets"), ("出差", "travel"), ("礼金", "cash gifts"),
               ("培训", "training"), ("考核", "assessment"), ("督查", "supervision"), ("评比", "rankings")]
    folder = write_kb(tmp_path / "kb", [
        entry("a-review", "整改事项销号审核", "closing a rectification item after review"),
        entry("a-request", "整改事项销号申请", "requesting the closing of a rectification item"),
        *(entry(f"a-filler-{n}", f"{word}的规定", f"rules on {english}") for n, (word, english) in enumerate(fillers))])
    engine = KnowledgeEngine(load_knowledge(folder))
    tied = engine.ask("整改事项怎么销号")
    assert tied.band is Band.ANSWER and {entry.id for entry in tied.entries} == {"a-review", "a-request"}
    assert [entry.id for entry in engine.ask("整改事项销号审核").entries] == ["a-review"]


def test_a_story_ending_in_a_plain_short_question_answers_that_question_too(engine):
    """ "How do I check what happened to my report?" is a few common words, too few to read the story
    by, but it matches how to check a report all but surely: it is answered beside the story's entry."""
    story = ("Last spring our county held a big inspection and the township asked every village to prepare binders "
             "of meeting minutes and photos, many made up after the fact. I reported it through the bot. "
             "How do I check what happened to my report?")
    answer = engine.ask(story, "en")
    assert answer.band is Band.ANSWER and "ub-status" in [entry.id for entry in answer.entries]


YES_NO_OPENINGS = {"zh": ("是的", "有要求", "不是。", "没有。"), "en": ("Yes", "No.", "No,")}
YES_NO_QUESTION = {"zh": re.compile(r"[吗么][？?]?$|是不是|能不能|会不会|算不算|有没有|可不可以|要不要|可以|能否"),
                   "en": re.compile(r"^(?:is|are|can|do|does|will|should|may|must|has|have|could|would|was|did|i )", re.I)}


def test_an_answer_opens_with_yes_or_no_only_when_its_question_asks_yes_or_no():
    """'What limits apply to meetings?' answered 'Yes: fewer and shorter meetings' reads as if the
    bot had misheard; the first word is what a reader takes in."""
    opened = [f"{e.id} ({language}): {e.question[language]}"
              for e in load_knowledge(KNOWLEDGE).entries.values() for language in ("zh", "en")
              if e.answer[language].lstrip().startswith(YES_NO_OPENINGS[language])
              and not YES_NO_QUESTION[language].search(e.question[language])]
    assert opened == []


@pytest.fixture(scope="module")
def engine():
    return KnowledgeEngine(load_knowledge(KNOWLEDGE))


def test_synonyms_cross_languages_and_typos_are_tolerated(engine):
    right = engine.ask("怎样才能销号").best.entry.id
    assert engine.ask("怎样才能消号").best.entry.id == right        # the wrong character of the right sound
    assert engine.ask("how is a rectification item closed").best.entry.id == right
    assert engine.ask("how is a rectificaton item closed").best.entry.id == right  # a typo in English


@pytest.mark.parametrize("question, language", [
    ("is 躺平 punished?", "en"), ("what does 销号 mean in the ledger", "en"),
    ("What are the three distinctions (三个区分开来)?", "en"), ("整改的deadline是什么时候", "zh"),
    ("怎样才能销号", "zh"), ("how is an item closed", "en"), ("how long can liuzhi last", "en"),
    ("what is 指尖上的形式主义", "en"), ("whats 一案双查", "en"), ("pls explain 容错纠错", "en"),
    ("supervisor每周收到的weekly digest里有啥", "zh")])
def test_the_majority_script_of_the_question_decides_the_answer_language(engine, question, language):
    assert script_of(question) == language
    assert engine.ask(question, "en" if language == "zh" else "zh").language == language


@pytest.mark.parametrize("question", ["销号 ok", "rongcuo jiucuo shi shenme", "liú zhì zuì cháng duō jiǔ",
                                      "zhenggai taizhang zenme daoru, zhichi excel ma"])  # one term of another language
def test_a_tie_of_scripts_and_pinyin_follow_the_interface_language(engine, question):
    """Pinyin is neither script: it is typed by people who read Chinese but have no Chinese keyboard
    (their interface is Chinese) and by learners (theirs may be English)."""
    assert script_of(question, tie="en") == "en" and script_of(question, tie="zh") == "zh"
    assert engine.ask(question, "en").language == "en"
    assert engine.ask(question, "zh").language == "zh"


def test_a_tie_of_scripts_follows_the_interface_language(engine):
    assert script_of("销号 ok", tie="en") == "en" and script_of("销号 ok", tie="zh") == "zh"
    assert engine.ask("销号 ok", "en").language == "en"
    assert engine.ask("销号 ok", "zh").language == "zh"


@pytest.mark.parametrize("typed, meant", [("资阳整治趟平的干部", "资阳整治躺平的干部"), ("留直期间能见家属吗", "留置期间能见家属吗")])
def test_two_characters_of_a_specialist_word_typed_with_the_wrong_tones_are_mended(engine, typed, meant):
    assert engine.typos.mend_chinese(typed) == meant
    assert engine.ask(typed).best.entry.id == engine.ask(meant).best.entry.id


@pytest.mark.parametrize("typed, meant", [("红色体醒多久发一次", "红色提醒多久发一次"), ("黄色提型会发给上级吗", "黄色提醒会发给上级吗")])
def test_an_everyday_word_typed_with_the_wrong_tones_is_mended_when_its_characters_are_rare_alone(engine, typed, meant):
    # 体 and 醒 are seldom words of their own: 体醒 is 提醒 typed with the wrong tones. 是县 stays (below).
    assert engine.typos.mend_chinese(typed) == meant
    assert engine.ask(typed).band is Band.ANSWER
    assert engine.ask(typed).best.entry.id == engine.ask(meant).best.entry.id


@pytest.mark.parametrize("text", ["我是县纪委的监督员", "警告处分会影响年终奖吗", "我们村离镇上四十里路", "怎么在清风上匿名反映问题"])
def test_everyday_words_are_not_mended_into_domain_words_that_sound_alike(engine, text):
    # 是县 sounds like 时限, 村离 like 村里, 会影 like 回应, 映问 like 英文: everyday words, not typos.
    assert engine.typos.mend_chinese(text) == text


def test_a_synonym_no_entry_writes_counts_as_its_concept_not_as_an_unknown_word(engine):
    # 四个形态 is how people say 四种形态; the entries write only the latter.
    assert not any(entry.answer["zh"].count("四个形态") for entry in engine.entries)
    said = engine.ask("四个形态有哪些")
    assert said.band is Band.ANSWER and said.best.entry.id == engine.ask("四种形态有哪些").best.entry.id


def test_pinyin_particles_the_reader_cannot_turn_into_words_do_not_dilute_the_question(engine):
    assert engine.ask("sige xingtai you naxie", "zh").band is Band.ANSWER
    assert "naxi" not in engine.query_terms("sige xingtai you naxie")


def test_a_sound_typo_is_mended_whatever_reading_the_context_gives_a_character(engine):
    # In 查查谁 pypinyin reads 查 as zha (a surname); on its own it is cha, as in 一案双查.
    assert engine.typos.mend_chinese("一安双查查谁").startswith("一案双查")


def test_a_sound_typo_is_mended_through_a_characters_other_reading(engine):
    # 削 is read xuē; its other reading xiāo is 销's: 削号 was cut into 削 and 号 and the question declined.
    assert engine.typos.mend_chinese("我们已经改好了，怎么申请削号？") == "我们已经改好了，怎么申请销号？"
    assert engine.ask("我们已经改好了，怎么申请削号？").band is Band.ANSWER


def test_two_swapped_letters_of_a_short_word_are_mended_but_a_changed_letter_is_not():
    fixer = TypoFixer({"eight": 5, "look": 30})
    assert fixer.fix("eigth") == "eight"
    assert fixer.fix("hook") is None


def test_a_letter_left_out_is_likelier_than_a_letter_changed_however_common_the_other_word():
    fixer = TypoFixer({"unless": 40, "useless": 2, "below": 30, "yellow": 3, "times": 20, "items": 9})
    assert fixer.fix("usless") == "useless"      # not "unless", though the entries write it more
    assert fixer.fix("yelow") == "yellow"
    assert fixer.fix("itmes") == "times"         # two swaps, equally likely: the commoner word


def test_typo_mending_prefers_the_word_the_knowledge_base_uses_most():
    fixer = TypoFixer({"excel": 1, "excess": 12})
    assert fixer.fix("exces") == "excess"        # "excesive" stems to "exces": one edit from both
    assert TypoFixer({"strain": 3, "strait": 3}).fix("straix") == "strain"  # equally common: alphabetical
    assert TypoFixer({"look": 30}).fix("hook") is None   # a short word with one letter changed: left alone
    assert TypoFixer({"rectification": 1}).fix("rectificaton") == "rectification"


@pytest.mark.parametrize("pinyin, chinese", [
    ("rongcuo jiucuo shi shenme", "怎么理解容错纠错"), ("rongcuojiucuo", "容错纠错是什么"),
    ("xiaohao zenme ban", "怎样才能销号"), ("xiāo hào zěnme bàn", "怎样才能销号"),
    ("tangping ganbu hui bei chufen ma", "躺平的干部会被处分吗"),
    ("ba1 xiang4 gui1 ding4 shi4 na3 yi1 nian2 chu1 tai2 de", "八项规定是哪一年出台的"),  # tones as digits
    ("liu2zhi4 zui4 chang2 duo1 jiu3", "留置最长多久")])
def test_pinyin_finds_what_the_chinese_finds(engine, pinyin, chinese):
    answer = engine.ask(pinyin, "zh")
    assert answer.language == "zh" and answer.band is not Band.UNKNOWN
    assert answer.best.entry.id == engine.ask(chinese).best.entry.id


@pytest.mark.parametrize("pinyin, chinese", [
    ("jilv chufen tiaoli shi na yi nian xiuding de", "纪律处分条例是哪一年修订的"),  # ü typed v, as keyboards do
    ("jì lǜ chǔ fèn tiáo lì shì nǎ yì nián xiū dìng de", "纪律处分条例是哪一年修订的"),  # ǜ with its tone mark
    ("liuzhi shi shenme yisi, na bu falv guiding de", "留置是什么意思，哪部法律规定的")])
def test_pinyin_with_u_umlaut_is_answered_as_its_chinese_is(engine, pinyin, chinese):
    answer, meant = engine.ask(pinyin, "zh"), engine.ask(chinese)
    assert answer.band is Band.ANSWER and answer.best.entry.id == meant.best.entry.id


@pytest.mark.parametrize("typed, meant", [("信式主义有哪些表现", "形式主义有哪些表现")])  # in for ing
def test_a_long_word_typed_with_sounds_many_speakers_blur_is_mended(engine, typed, meant):
    assert engine.typos.mend_chinese(typed) == meant


@pytest.mark.parametrize("text", ["整改事项的状态有哪几种", "督促整改时领导干部岗位能调整吗", "怎么匿名举报形式主义"])
def test_words_of_their_own_are_not_blurred_into_a_domain_word(engine, text):
    # 整改事项 blurs like 整改时限 (xiang/xian), 干部岗位 holds 部岗位 like 不敢为 (gang/gan): real words, left alone.
    assert engine.typos.mend_chinese(text) == text


def test_comparing_liuzhi_with_criminal_detention_is_answered_not_sent_to_another_field(engine):
    answer = engine.ask("留置和刑事拘留是一回事吗？")
    assert answer.other_field is None and answer.best.entry.id.startswith("sl-liuzhi")


def test_pinyin_reader_reads_terms_and_keeps_what_it_cannot_read():
    reader = PinyinReader(["容错纠错", "销号", "留置"], {"处分": 3, "出分": 1})
    assert reader.read("rongcuo jiucuo shi shenme") == "容错纠错 是什么"
    assert reader.read("chufen") == "处分"                                    # the commoner spelling
    assert reader.read("how long can liuzhi last") == "how long can 留置 last"  # in an English question
    assert reader.read("liu zhi zui chang") == "留置 zuichang"   # unread syllables: one unknown word
    assert reader.read("jintian tianqi") == "jintiantianqi"
    assert reader.read("hao ma") == ""                   # ... a lone syllable and a particle nothing
    assert reader.read("who won the final") == "who won the final"
    assert reader.read("what is the weather") == "what is the weather"
    assert reader.read("整改的xiaohao怎么弄") == "整改的销号怎么弄"   # beside Chinese characters too


@pytest.mark.parametrize("question, entry_id", [
    ("whats the four winds", "fw-what-are-four-winds"), ("wat is liuzhi", "sl-liuzhi-what")])
def test_chat_spellings_of_what_is_ask_for_a_definition(engine, question, entry_id):
    assert question_form(question) == "definition"
    answer = engine.ask(question, "zh")
    assert answer.band is Band.ANSWER and answer.best.entry.id == entry_id and answer.language == "en"


def test_question_words_carry_no_weight(engine):
    terms = engine.query_terms("自贡的容错意见有哪几个标准")
    assert not {"哪几个", "几个", "哪几"} & set(terms) and "自贡" in terms
    # 第几条 asks for an article's number: three words of nothing (第几, 几条, 第几条) left a question
    # on the Supervision Law's revision declined.
    assert not {"第几", "几条", "第几条"} & set(engine.query_terms("监察法2024年改了什么？能告诉我第几条吗"))


@pytest.mark.parametrize("question, fact", [
    ("留党察看最长可以多久", "不超过二年"), ("开除党籍的人几年内不能重新入党", "五年内不得重新入党"),
    ("严重警告以后多长时间不能提拔", "一年半"), ("记大过的政务处分期是多少个月", "记大过十八个月"),
    ("监委留置时间最长是多少", "不得超过三个月"), ("who has to approve retention in custody (留置)", "next level up"),
    ("how many months does a government sanction of demotion last", "24 months"),
    ("实名举报多少个工作日会告知受理情况", "15个工作日"), ("what are the four forms of supervision and discipline", "red faces"),
    ("问责条例哪一年修订的", "2019年修订"), ("公务接待的用餐标准是多少", "本地规定")])
def test_core_discipline_rules_are_answered_with_the_fact(engine, question, fact):
    answer = engine.ask(question)
    assert answer.band is Band.ANSWER, (answer.band, answer.best and answer.best.entry.id)
    assert fact in entry_plain(answer.best.entry, answer.language)


def test_the_engine_defaults_are_the_fitted_thresholds_of_config_yaml():
    configured = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["knowledge"]
    engine = KnowledgeEngine(load_knowledge(KNOWLEDGE))
    assert (engine.answer_threshold, engine.suggest_threshold) == (
        configured["answer_threshold"], configured["suggest_threshold"])


def test_a_long_chinese_word_is_mended_when_only_its_tones_differ(engine):
    fixer = TypoFixer({"官僚主义": 3}, ["官僚主义", "使用"])
    assert fixer.mend_chinese("官撩主义是什么") == "官僚主义是什么"   # 撩 liāo, 僚 liáo
    assert fixer.mend_chinese("试用期") == "试用期"                 # two characters: tones must agree
    assert engine.ask("官撩主义有哪些表现").best.entry.id == engine.ask("官僚主义有哪些表现").best.entry.id


def test_excesive_is_mended_to_excess(engine):
    assert "excess" in engine.query_terms("excesive traces")


def test_a_real_english_word_is_not_mended_into_one_the_entries_write(engine):
    """ "spring" is one letter from "sparing", "binders" from "hinders": both are English, only not
    the knowledge base's, and are read as they are."""
    terms = engine.query_terms("last spring they asked for binders of minutes")
    assert "spare" not in terms and "hinder" not in terms
    assert "excess" in engine.query_terms("excesive binders")
    assert engine.ask("is laying flat punishable").best.entry.id == engine.ask("is lying flat punishable").best.entry.id


@pytest.mark.parametrize("question", ["", "   ", "😀😀😀", "？？？", "!!!"])
def test_nothing_to_search_for_is_recognised(engine, question):
    assert engine.ask(question).band is Band.EMPTY


@pytest.mark.parametrize("question", ["x" * 10_000, "销号" * 5000, "明天 weather 怎么样 😀", "\x00\u202e测试"])
def test_odd_questions_never_raise(engine, question):
    answer = engine.ask(question)
    assert answer.band in set(Band)


def test_long_answers_are_split_between_paragraphs(engine):
    text = "\n\n".join(f"第{n}段。" + "内容" * 300 for n in range(10))
    pieces = split_text(text, 4096)
    assert all(len(piece) <= 4096 for piece in pieces) and len(pieces) > 1
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    first = next(iter(engine.knowledge.entries.values()))
    assert all(len(piece) <= 4096 for piece in entry_html(first, "zh"))


# -- gaps --------------------------------------------------------------------------------------

async def test_unanswered_questions_are_kept_as_text_and_grouped(database, tmp_path):
    service = KnowledgeService(KNOWLEDGE, database)
    for question in ["村里的路灯坏了找谁修", "村里路灯坏了找谁", "how to apply for a passport"]:
        await service.record_unanswered(question, "zh")
    await service.record_feedback(next(iter(service.knowledge.entries)), False, "这个回答没用", "zh")
    groups = await service.gaps()
    assert groups[0].count == 2 and "路灯" in groups[0].example
    assert sum(group.count for group in groups) == 4
    assert any(group.kinds.get("unhelpful") for group in groups)


async def test_feedback_counts_once_per_answer_and_user(database):
    from bot.knowledge.models import KnowledgeFeedback

    service = KnowledgeService(KNOWLEDGE, database)
    entry_id = next(iter(service.knowledge.entries))
    counted = [await service.record_feedback(entry_id, False, None, "zh", voter="hash-of-user-1-and-entry")
               for _ in range(20)]
    assert counted == [True] + [False] * 19
    assert await service.record_feedback(entry_id, False, None, "zh", voter="hash-of-user-2-and-entry")
    async with database.session() as session:
        rows = (await session.exec(select(KnowledgeFeedback))).all()
    assert sum(row.unhelpful for row in rows) == 2


# -- the command line --------------------------------------------------------------------------

def qingfeng(*args: str, input: str | None = None):
    """The command, in this process (the engine and jieba are loaded once for the whole suite)."""
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, list(args), input=input)
    result.returncode = result.exit_code
    return result


def test_kb_check_reports_problems_and_exits_non_zero(tmp_path):
    folder = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, folder)
    (folder / "reporting.yaml").write_text((folder / "reporting.yaml").read_text(encoding="utf-8")
                                           .replace("related: [", "related: [no-such-entry, ", 1), encoding="utf-8")
    result = qingfeng("kb", "check", str(folder))
    assert result.returncode == 1
    assert "reporting.yaml:" in result.stdout and "related entry 'no-such-entry' does not exist" in result.stdout
    assert qingfeng("kb", "check").returncode == 0


def test_ask_json_one_object_per_line():
    result = qingfeng("ask", "--json", "-", input="整改完成后怎么销号\n今天股市行情如何\n")
    assert result.returncode == 0, result.stderr
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["matched"] and first["entry_id"] and first["sources"] and first["answer"]
    assert {"matched", "entry_id", "score", "answer", "sources", "suggestions"} <= set(first)
    assert second["matched"] is False and second["entry_id"] is None


def test_ask_answers_in_the_forced_language():
    result = qingfeng("ask", "--lang", "en", "整改完成后怎么销号")
    assert result.returncode == 0 and "Sources:" in result.stdout


@pytest.mark.parametrize("question", [
    "医院的留置针能放几天", "快递被留置在驿站了怎么办", "信用卡逾期了会被上报吗", "what are the four states of matter",
    "how long can a lien on my car last", "驾照扣分怎么查", "12315是什么电话",
    "孩子作业太多，双减政策管不管，老师还要家长在群里打卡", "my company makes us clock in on an app, is that legal under labour law",
    "My son's school gives too much homework. How can I reduce his burden?",
    "股票怎么买", "how do I buy stocks", "我的社保怎么转移到县城",
    "Excel里怎么用VLOOKUP把两张表的数据对上?"])   # an English word of another field beside Chinese characters
def test_a_question_of_another_field_is_declined_though_it_shares_the_domain_words(engine, question):
    answer = engine.ask(question)
    assert answer.band is Band.UNKNOWN and not answer.suggestions


def test_another_fields_word_past_the_cut_of_a_long_question_still_declines_it(engine):
    """The sentences that ask are read beyond the first 300 characters: a visa asked for at the end
    of a long story of leave and holidays is another field's question."""
    story = ("My daughter is studying in Lyon and my wife and I want to visit her over the Spring Festival, it "
             "would be our first trip abroad. I work at the county petition office and my unit has already "
             "approved 9 days of leave. My wife has been practising French phrases every evening, and we have "
             "booked nothing yet. How do I apply for a Schengen visa from Shanghai, and how long does it take?")
    assert len(story) > 300 and "visa" in story[300:]
    assert engine.ask(story, "en").band is Band.UNKNOWN


@pytest.mark.parametrize("question, entry_id", [
    ("留置最长多久", "sl-liuzhi-how-long"), ("整改逾期了会上报给谁", "ub-reminder-schedule"),
    ("what is a lie flat cadre", "in-lying-flat")])
def test_the_domain_words_an_other_field_shares_still_find_their_entry(engine, question, entry_id):
    """留置 (but not 留置针), 逾期 (but not a credit card's), "lie" (but not "lien")."""
    assert engine.ask(question).best.entry.id == entry_id


def test_the_list_of_other_fields_words_is_checked(tmp_path):
    folder = write_kb(tmp_path / "kb", [entry("br-one", "基层减负", "burden reduction")])
    (folder / "dictionary.yaml").write_text("words: [减负]\nsynonyms: []\noutside: [留置针, 42]\n", encoding="utf-8")
    assert any("'outside' must be a list of words" in str(p) for p in check_knowledge(folder))


@pytest.mark.parametrize("question, facts", [
    ("整改提醒的三色预警分别什么时候发", ["5个工作日", "2个工作日", "每3个工作日"]),
    ("what does acknowledging a reminder stop", ["that level only"]),
    ("督查人员怎么审核单位的销号申请", ["同意销号", "退回"]),
    ("how do I filter the inbox", ["category:", "unit:", "search:"]),
    ("配合单位能报告进展吗", ["只有牵头的责任单位"]),
    ("what figures does the weekly digest give", ["overdue", "closed in the past 7 days"]),
    # a stray "hello" typed in /status is not sent; a disputed report is marked in the inbox
    ("I typed hello in /status by mistake, did the supervisors get it?", ["only when you press Send"]),
    ("in /inbox a report says the reporter disputes it, can I reopen it?", ["disputes the outcome", "reopen"])])
def test_bot_features_are_answered_as_the_readme_describes_them(engine, question, facts):
    answer = engine.ask(question)
    assert answer.band is Band.ANSWER, (answer.band, answer.best and answer.best.entry.id)
    text = entry_plain(answer.best.entry, answer.language)
    assert all(fact in text for fact in facts), answer.best.entry.id


@pytest.mark.parametrize("typo, entry_id", [
    ("wat is formalsm", "fw-formalism"), ("how to reprot formalism anonymusly", "ub-report-how"),
    ("what's burden reducton", "br-overview")])
def test_an_english_typo_is_mended_to_the_word_before_its_stem(engine, typo, entry_id):
    """"formalsm" is one letter from "formalism" but two from its stem "formal"."""
    answer = engine.ask(typo, "en")
    assert answer.band is Band.ANSWER and entry_id in [entry.id for entry in answer.entries], (answer.band, answer.best)


def test_an_entry_without_the_year_asked_for_is_not_the_confident_answer(tmp_path):
    """"Which year" is answered by the entry that gives a year, not by the neighbour that shares more words."""
    overview = entry("a-overview", "八项规定的内容和要求", "the eight-point regulation and what it requires",
                     kind="definition")
    overview["answer"] = {"zh": "八项规定要求改进调查研究、精简会议活动。", "en": "The regulation asks for fewer meetings."}
    years = entry("a-years", "中央出台的规定", "when rules were issued", kind="figure")
    years["answer"] = {"zh": "八项规定于2012年12月通过。", "en": "The eight-point regulation was adopted in December 2012."}
    engine = KnowledgeEngine(load_knowledge(write_kb(tmp_path / "kb", [overview, years])))
    assert engine.search("八项规定的内容和要求", 1)[0].entry.id == "a-overview"
    assert engine.ask("八项规定是哪一年出台的").best.entry.id == "a-years"
    assert engine.ask("which year was the eight-point regulation adopted").best.entry.id == "a-years"


def test_a_question_for_a_number_is_not_answered_confidently_by_an_entry_without_one(tmp_path):
    limits = entry("a-limits", "会议的要求", "rules on meetings")
    limits["answer"] = {"zh": "会议要精简，能不开的不开。", "en": "Meetings should be cut; hold none that is not needed."}
    engine = KnowledgeEngine(load_knowledge(write_kb(tmp_path / "kb", [limits])))
    assert engine.ask("会议的要求").band is Band.ANSWER
    assert engine.ask("会议的要求是多少个").band is not Band.ANSWER
    assert engine.ask("how many rules on meetings").band is not Band.ANSWER


@pytest.mark.parametrize("question", ["what can you do", "What can you do?", "help", "what can the bot do",
                                      "你能做什么", "你能干啥", "你好，你能帮我做什么？", "帮助", "清风能做什么"])
def test_asking_what_the_bot_can_do_is_answered_with_the_help_entry(engine, question):
    """Such questions are all stop words: they find nothing, but dictionary.yaml names the entry that answers them."""
    answer = engine.ask(question)
    assert answer.band is Band.ANSWER and answer.best.entry.id == engine.knowledge.help_entry == "ub-help"


def test_what_can_you_do_about_something_else_is_not_the_help_entry(engine):
    answer = engine.ask("what can you do about my neighbour's noise")
    assert not answer.best or answer.best.entry.id != "ub-help"


def test_the_help_entry_must_exist(tmp_path):
    folder = write_kb(tmp_path / "kb", [entry("br-one", "基层减负", "burden reduction")])
    (folder / "dictionary.yaml").write_text("words: [减负]\nsynonyms: []\nhelp_entry: no-such-entry\n", encoding="utf-8")
    assert any("help_entry 'no-such-entry' does not exist" in str(p) for p in check_knowledge(folder))


@pytest.mark.parametrize("question, entry_id", [
    ("who decides on liu zhi", "sl-liuzhi-who-decides"), ("how long can liu zhi last", "sl-liuzhi-how-long"),
    ("what does zhijian shang de xingshi zhuyi mean", "ff-overview")])
def test_pinyin_with_spaced_syllables_in_an_english_question_is_read(engine, question, entry_id):
    assert engine.ask(question).best.entry.id == entry_id


def test_chat_spellings_and_digits_read_as_the_entries_write_them(engine):
    assert engine.query_terms("what r the 4 forms") == engine.query_terms("what are the four forms")
    assert engine.query_terms("how many yrs in govt") == engine.query_terms("how many years in government")
    assert "12388" in engine.query_terms("what is 12388")
    assert engine.query_terms("waht does closing an item meen") == engine.query_terms("what does closing an item mean")
    assert engine.query_terms("how many fotos can i add") == engine.query_terms("how many photos can i add")


@pytest.mark.parametrize("question", ["What is formalism in Chinese governance?", "formalism in China"])
def test_china_and_chinese_do_not_pull_a_question_to_the_language_entries(engine, question):
    # The whole domain is Chinese: the words say nothing, except beside a language switch.
    assert engine.ask(question, "en").best.entry.id == engine.ask("What is formalism?", "en").best.entry.id
    assert engine.ask("How do I switch between Chinese and English?", "en").best.entry.id == "ub-language"


def test_answers_carry_no_editors_notes_about_the_seed_translations(engine):
    notes = [entry.id for entry in engine.entries for text in entry.answer.values()
             if "seeds'" in text or "garbled" in text or "残缺" in text]
    assert not notes


def test_a_question_of_another_field_names_that_field_word(engine):
    assert engine.ask("医院的留置针可以留几天").other_field == "留置针"
    assert engine.ask("liuzhizhen ji tian huan yi ci", "zh").other_field == "留置针"
    assert engine.ask("炒饭怎么做最好吃").other_field is None


def test_a_question_in_traditional_characters_is_answered_as_in_simplified(engine):
    typed, simple = "三個區分開來是什麼意思", "三个区分开来是什么意思"
    said = engine.ask(typed)
    assert said.band is Band.ANSWER and said.language == "zh"
    assert said.best.entry.id == engine.ask(simple).best.entry.id


def test_pinyin_is_cut_so_that_domain_words_spell_as_much_of_it_as_possible(engine):
    # Longest first from the left, "shi yi" would be 事宜 and take the yi of 一案双查.
    assert "一案双查" in engine.pinyin.read("shenme shi yi an shuang cha")
    assert engine.ask("shenme shi yi an shuang cha").best.entry.id == engine.ask("什么是一案双查").best.entry.id


def test_pinyin_cut_two_ways_takes_the_dictionarys_word(engine):
    # "bu xia dan" is 不下 + dan or bu + 下蛋, each spelling two syllables: 下蛋 is a word the
    # dictionary lists (of another field), 不下 only a word of some entry's text; read as 不下, a
    # question about hens was answered with the entry on government apps.
    assert "下蛋" in engine.pinyin.read("wo jia de ji zui jin bu xia dan le zen me ban")
    assert engine.ask("wo jia de ji zui jin bu xia dan le zen me ban").band is not Band.ANSWER


def test_pinyin_beside_chinese_characters_is_read(engine):
    # Any Chinese character kept the reader away: "yanqi shenqing" stayed two unknown words and the
    # question was declined.
    assert "延期申请" in engine.pinyin.read("How do I file a yanqi shenqing for item 二轮-5?")
    answer = engine.ask("How do I file a yanqi shenqing for item 二轮-5?", "en")
    assert answer.band is Band.ANSWER and "extension" in entry_plain(answer.best.entry, "en").lower()


def test_pinyin_that_one_entry_quotes_is_still_read_as_its_chinese(engine):
    # "what does xiaohao mean" made "xiaohao" a word of the knowledge base, so it was no longer read
    # as 销号: asking for xiaohao on an item found only the entry on the word's meaning.
    assert "销号" in engine.query_terms("The commission keeps asking us for xiaohao on an old item")
    assert "fan" in engine.query_terms("Fan Yonghong, Gao Lu: which places are they secretaries of?")  # a name stays


def test_pinyin_keeps_to_the_words_as_typed(engine):
    # "shi jian" is 时间 too, but it would cut into "jiandu" as typed (and leave its du unread);
    # "yi fa" is 依法, but it would take the yi of "keyi" and the fa after it.
    read = engine.pinyin.read("wo shi jiandu renyuan, xin de jubao zai nali kan")
    assert "监督" in read and "时间" not in read
    assert "依法" not in engine.pinyin.read("wo xiang jubao cun li de xingshizhuyi, keyi fa zhaopian ma")
    assert "容错纠错" in engine.pinyin.read("rongcuojiucuo")   # terms inside one typed word cross nothing
    said = engine.ask("wo shi jiandu renyuan, xin de jubao zai nali kan")
    assert said.best.entry.id == engine.ask("我是监督人员，新的举报在哪里看").best.entry.id


def test_pinyin_de_and_le_end_a_phrase_not_some_entrys_word(engine):
    # 来得 (from "还来得及") read for "lai de" counted against every entry and left the question at "did you mean".
    read = engine.pinyin.read("wèi jīcéng jiǎnfù shì nǎ yī nián tíchū lái de")
    assert "来得" not in read and "为基层减负" in read
    assert engine.ask("wèi jīcéng jiǎnfù shì nǎ yī nián tíchū lái de").band is Band.ANSWER


def test_pinyin_homophones_are_read_as_the_commoner_word_of_the_knowledge_base(engine):
    # shouli is 受理 (a report accepted) and 收礼 (taking gifts); the first is the knowledge base's commoner word.
    assert "受理" in engine.pinyin.read("jubao yihou ji tian shouli")
    said = engine.ask("jubao yihou ji tian shouli")
    sent = "\n".join(entry_plain(entry, "zh") for entry in said.entries)
    assert said.band is Band.ANSWER and "5个工作日" in sent


@pytest.mark.parametrize("counted, plain", [("四风是哪四个", "四风是哪些"), ("四种形态是哪四种", "四种形态有哪些")])
def test_which_with_a_count_asks_for_a_list_and_names_nothing(engine, counted, plain):
    # 哪四个: "四个" is no word of the subject; it used to count against every entry and leave 四风 at "did you mean".
    said = engine.ask(counted)
    assert said.band is Band.ANSWER and said.best.entry.id == engine.ask(plain).best.entry.id


def test_american_spellings_find_the_british_ones_the_entries_write(engine):
    # "organization" stemmed to organiz, unknown to entries that write "organisation": left at "did you mean".
    assert engine.query_terms("party organization") == engine.query_terms("party organisation")
    assert engine.query_terms("colors") == engine.query_terms("colours")
    said = engine.ask("How party organization can be held to account? which forms", "en")
    assert said.band is Band.ANSWER and said.best.entry.id == engine.ask("how can a party organisation be held to account").best.entry.id


def test_ever_is_no_word_to_rank_by(engine):
    assert "ever" not in engine.query_terms("will I ever find out")


def test_a_file_typed_with_the_wrong_tone_is_still_a_file(engine):
    # 文挡 (dǎng) for 文档 (dàng): the tones differ, so the sound-alike mending leaves it; the dictionary does not.
    said = engine.ask("我传的文挡里有我的名子，会被删掉吗")
    sent = "\n".join(entry_plain(entry, "zh") for entry in said.entries)
    assert said.band is Band.ANSWER and "作者" in sent


def test_who_asks_said_first_is_not_what_they_ask_about(engine):
    # 信访室 (the letters-and-visits office) is how reports reach a commission: it ranked "how to
    # report" first for a supervisor asking where new reports are read.
    assert asking_part("我是县纪委信访室的，新来的举报在哪儿看") == "新来的举报在哪儿看"
    said = engine.ask("我是县纪委信访室的，新来的举报在哪儿看")
    assert said.band is Band.ANSWER and said.best.entry.id == engine.ask("新来的举报在哪儿看").best.entry.id
    assert asking_part("我是县纪委信访室的") is None   # nothing asked after it


@pytest.mark.parametrize("typed, fact", [("为鸡层减负那个通知是那年发的", "2019"),   # 那年 for 哪年
                                         ("整改进度怎么汇抱", "/tasks"),               # 汇抱 for 汇报
                                         ("邀情码过期了咋办", "重新")])                # 邀情码 for 邀请码
def test_homophones_typed_on_a_phone_are_read_as_meant(engine, typed, fact):
    said = engine.ask(typed)
    sent = "\n".join(entry_plain(entry, "zh") for entry in said.entries)
    assert said.band is Band.ANSWER and fact in sent


def test_a_clause_announcing_the_question_asks_nothing(engine):
    # "我想问下" (问下 unknown to every entry) weighed as much as a real question and was read alone.
    parts = asked_parts("村支书是我舅舅。我想问下，问责到底有哪几种？是不是一问责就要撤职？")
    assert parts and not any(part.startswith("我想问下") for part in parts)


def test_wats_is_what_not_wait(engine):
    assert "wait" not in engine.query_terms("wats the latest version of the inspection work regulations")


def test_pinyin_reads_function_words_it_would_otherwise_leave_as_english(engine):
    # "name" (那么) stayed an English word and "shi yi hui shi" read 事宜: the question was answered
    # with a local example instead of "burden reduction is no reduction of responsibility".
    asked = "jianfu he jianze shi yi hui shi ma? lingdao shuo jianfu le jiu bu yong name renzhen le"
    assert "name" not in engine.query_terms(asked)
    assert engine.ask(asked).best.entry.id == engine.ask("减负和减责是一回事吗？领导说减负了就不用那么认真了").best.entry.id


def test_till_is_a_word_not_a_typo(engine):
    assert "still" not in engine.query_terms("how long till the commission answers my report")


@pytest.mark.parametrize("question", ["我想举报", "我要举报", "can supervisors see who I am"])
def test_a_would_be_reporter_is_shown_the_way_to_report(engine, question):
    """Someone about to report learns the command that does it (我想举报 was answered with what a
    report should contain, and no /report), or what is kept about them."""
    answer = engine.ask(question)
    sent = "\n".join(entry_plain(entry, answer.language) for entry in answer.entries)
    assert answer.band is Band.ANSWER and ("/report" in sent or "Telegram" in sent), sent[:200]


def test_a_question_typed_as_one_of_an_entrys_phrasings_is_that_entry(tmp_path):
    """"I want to report" shares its one word with every reporting entry; its author listed it
    under the entry on how to report, which words alone ranked third."""
    inbox = entry("a-inbox", "督查人员怎么看举报", "how supervisors read a report")
    inbox["paraphrases"]["en"] += ["report inbox", "new report notice", "report card", "report filter"]
    mistaken = entry("a-mistaken", "举报错了算诬告吗", "is a mistaken report a false report")
    how = entry("a-how", "怎样匿名反映问题", "how to file an anonymous complaint here")
    how["paraphrases"]["en"].append("I want to report")
    engine = KnowledgeEngine(load_knowledge(write_kb(tmp_path / "kb", [inbox, mistaken, how])))
    for typed in ("I want to report", "i want to REPORT!", " I want  to report. "):
        answer = engine.ask(typed, "en")
        assert answer.band is Band.ANSWER and [e.id for e in answer.entries] == ["a-how"], typed
    assert engine.search("report inbox", 1)[0].entry.id == "a-inbox"
    # A remark beside the question ("别绕弯子", "thanks!") is no part of it: the question is still that entry.
    for typed in ("How to file an anonymous complaint here? Quickly please!", "Thanks. how to file an anonymous complaint here"):
        answer = engine.ask(typed, "en")
        assert answer.band is Band.ANSWER and answer.best.exact and answer.best.entry.id == "a-how", typed


def test_a_story_ending_in_one_of_an_entrys_phrasings_is_that_entry(engine):
    # The story's words (township head, find out) outweighed the few the question is made of: only "did you mean".
    story = "I'm scared the township head will find out it was me. "
    answer = engine.ask(story + "What do you keep about me?", "en")
    assert answer.band is Band.ANSWER
    assert answer.best.entry.id == engine.ask("What do you keep about me?", "en").best.entry.id


def test_a_question_too_short_to_look_up_is_read_with_the_sentence_it_ends(engine):
    # "这是啥原因" alone says nothing; its sentence says the chart shows pinyin for Chinese.
    asked = ("下周要给县委书记汇报巡察整改进度，我想拿一张各单位的进度图出来。怎么看统计数据和图表？"
             "还有，上次同事导出来的图上单位名都是拼音，不是汉字，这是啥原因？")
    answer = engine.ask(asked)
    sent = "\n".join(entry_plain(entry, "zh") for entry in answer.entries)
    assert answer.band is Band.ANSWER and "/stats" in sent and "fonts-noto-cjk" in sent
    assert ("这是啥原因？", "还有，上次同事导出来的图上单位名都是拼音，不是汉字，这是啥原因？") in asked_parts_with_leads(asked)


def test_a_question_its_own_words_answer_surely_is_not_pulled_away_by_the_story(engine):
    # The story (photos of old people holding dated signs) pulled "is nothing of mine kept?" to the
    # entry on attachments; the reporter asked both what is kept and whether photos can be sent.
    asked = ("我是平安镇敬老院的护工，名字就不说了。从2024年10月开始，镇上要求我们每天给老人拍照打卡，"
             "每张照片都要老人举着写了日期的牌子，有个脑梗瘫在床上的老爷子也得扶起来拍，我看着真心疼。"
             "院长说是镇民政办要的。我想举报，可又怕被查出来是我，这地方小，谁说的一猜就知道。"
             "你们这个举报真的不会留下我的信息吗？照片能不能发？")
    answer = engine.ask(asked)
    kept = engine.ask("你们这个举报真的不会留下我的信息吗？").best.entry.id
    assert answer.band is Band.ANSWER and kept in [entry.id for entry in answer.entries]


def test_a_long_story_before_a_short_question_is_not_read_as_its_subject(engine):
    story = ("我们局有一条整改事项期限是上周五，因为前段时间连续暴雨，高标准农田的工程没法施工，"
             "现在已经逾期了，机器人一直给我发红色提醒，局长问我怎么办。能不能在机器人里申请延期？监督员那边怎么批？")
    assert ("局长问我怎么办。", "局长问我怎么办。") in asked_parts_with_leads(story)


def test_the_runner_up_in_a_near_tie_is_sent_beside_the_answers_to_the_parts(engine):
    # Three entries tied on the whole story; one of its questions was answered with the reminders,
    # and the entry on extensions, the one asked for, was left unseen.
    asked = ("我是县农业农村局的单位联系人，已经在机器人上绑定了单位。我们局有一条整改事项期限是上周五，"
             "因为前段时间连续暴雨，高标准农田的工程没法施工，现在已经逾期了，机器人一直给我发红色提醒，"
             "局长问我怎么办。能不能在机器人里申请延期？监督员那边怎么批？")
    answer = engine.ask(asked)
    sent = "\n".join(entry_plain(entry, "zh") for entry in answer.entries)
    assert answer.band is Band.ANSWER and "申请延期" in sent and "理由" in sent


def test_a_phrasing_two_entries_share_belongs_to_neither(tmp_path):
    first, second = entry("a-one", "会议太多", "too many meetings"), entry("a-two", "文件太多", "too many documents")
    first["paraphrases"]["en"].append("too much paperwork and meetings")
    second["paraphrases"]["en"].append("too much paperwork and meetings")
    engine = KnowledgeEngine(load_knowledge(write_kb(tmp_path / "kb", [first, second])))
    assert not engine.ask("too much paperwork and meetings", "en").best.exact


def test_a_relative_clause_in_a_story_is_not_one_of_its_questions():
    story = ("I reported through the bot while my brother-in-law, who works in the township office, was next to me. "
             "Can I make the report disappear from my chat, and how long do I have to do that?")
    assert not any(part.startswith("who works") for part in asked_parts(story))
    assert "who decides on retention?" in asked_parts("what is retention, who decides on retention?")


def test_vs_reads_as_versus(engine):
    assert engine.query_terms("formalism vs bureaucratism") == engine.query_terms("formalism versus bureaucratism")


def test_pinyin_guoqi_of_an_expired_code_is_read_as_expired(engine):
    # 国企 (a keyword of one entry) was read first, and a contact's expired invitation was not answered.
    assert "过期" in engine.pinyin.read("yaoqingma guoqi le zenme ban")
    answer = engine.ask("yaoqingma guoqi le zenme ban")
    sent = "\n".join(entry_plain(e, "zh") for e in answer.entries)
    assert answer.band is Band.ANSWER and "qingfeng units invite" in sent


def test_an_other_fields_word_typed_wrong_still_declines_the_question(engine):
    # 留至针 was mended to 留置针 for the terms only, and the question answered on retention (留置).
    answer = engine.ask("留至针可以留几天")
    assert answer.band is Band.UNKNOWN and answer.other_field == "留置针"


@pytest.mark.parametrize("typed, kept", [("上周去省里培训了五天，回来一看举报的受理期限都过了", "培训"),
                                         ("我作为经办人会不会也被追责", "经办人"),
                                         ("那块地后来调整了用途，根本没法整改", "块地")])
def test_words_of_the_text_are_not_mended_into_an_other_fields_word(engine, typed, kept):
    # 省里培训 held 理赔 (a claim), 作为经 sounded like 做胃镜, 那块地 like 快递: each lowered the
    # question's confidence with a word no entry has, or could decline it.
    assert kept in engine.typos.mend_chinese(typed)
    assert engine.other_field_in(typed) is None


@pytest.mark.parametrize("typed", ["我们县里今年推了新办法", "被谈话提醒了算不算处分", "要我们签字拍照留痕",
                                   "机器人是不是会一直催", "改通知书下来了", "汛期县里让我们天天报数"])
def test_words_the_text_holds_are_not_mended_into_a_domain_word_that_sounds_alike(engine, typed):
    # 县里今年 was read 县礼金年 (a gift of money), 谈话提醒 谈话题醒, 签字拍照 签自拍照.
    assert engine.typos.mend_chinese(typed) == typed


@pytest.mark.parametrize("typed, meant", [("容措纠错", "容错纠错"), ("过渡留痕", "过度留痕"), ("一安双查查谁", "一案双查"),
                                          ("怎样才能消号", "销号"), ("整该台帐", "整改台账")])
def test_a_wrong_character_of_the_right_sound_is_still_mended(engine, typed, meant):
    assert meant in engine.typos.mend_chinese(typed)


@pytest.mark.parametrize("typed, kept", [("what happened to secretary zhang", "zhang"),
                                         ("is guizhou doing the same", "guizhou"), ("heping district office", "heping")])
def test_a_name_in_pinyin_is_not_mended_into_another_word(engine, typed, kept):
    # "zhang" was read "hang", Guizhou the Huizhou of a seed's case.
    assert kept in engine.spelling.mend(typed, known=engine.index.knows)


def test_a_place_name_missing_a_letter_is_still_mended(engine):
    assert "huizhou" in engine.spelling.mend("what did huizou do", known=engine.index.knows)


def test_contractions_typed_without_the_apostrophe_are_stop_words(engine):
    # "arent" was mended to "parent" (a parent unit), "wont" and "couldnt" counted as rare words.
    assert engine.query_terms("arent formalism and bureaucratism the same") == \
        engine.query_terms("aren't formalism and bureaucratism the same")
    assert engine.query_terms("questions the bot couldnt answer") == engine.query_terms("questions the bot can't answer")


def test_a_literal_synonym_phrase_is_found_as_typed_stop_words_and_all(tmp_path):
    """'=find out it was me' is the reporter's fear; without its stop words it would be "find out",
    which every fact-finding question holds."""
    privacy = entry("a-privacy", "会不会知道是我举报的", "what is kept about a reporter")
    privacy["keywords"] = {"zh": ["知道是我"], "en": []}
    facts = entry("a-facts", "怎样查清事实", "how the commission finds out the facts")
    folder = write_kb(tmp_path / "kb", [privacy, facts])
    (folder / "dictionary.yaml").write_text(yaml.safe_dump(
        {"words": [], "synonyms": [["知道是我", "=find out it was me", "=know it's me"]]}, allow_unicode=True),
        encoding="utf-8")
    engine = KnowledgeEngine(load_knowledge(folder))
    concept = [t for t in engine.analyzer.terms("知道是我") if t.startswith("§")]
    assert concept and concept[0] in engine.analyzer.terms("I'm scared they'll Find Out  it was me")
    assert concept[0] in engine.analyzer.terms("will they know it’s me")
    assert concept[0] not in engine.analyzer.terms("how do they find out the facts")


def test_a_reporters_fear_of_being_found_out_is_answered_with_what_is_kept(engine):
    story = ("Every month the town asks us to upload photos of the clean village into three different apps, and "
             "if a photo is missing they deduct our score. I want to report this but I'm scared the town secretary "
             "will find out it was me, there are only three villages. Can the town know who is reporting?")
    answer = engine.ask(story, "en")
    assert answer.band is Band.ANSWER and answer.best.entry.id == "ub-privacy"


def test_the_questions_of_a_long_message_past_the_cut_are_answered(engine):
    """A long message asks at its end; the whole is read to 300 characters, and its questions were
    looked for only there, so the third of three went unanswered."""
    story = ("My uncle runs a township agricultural station and was taken into 'retention' by the county "
             "supervision commission last week. Nobody in the family understands what is going on, his wife "
             "calls me every evening, and the neighbours talk. I work in another county and can only help by "
             "reading. What law does retention come from, was that law changed recently, and can he also get a "
             "government sanction on top of any party punishment?")
    assert len(story) > 300
    answer = engine.ask(story, "en")
    sent = "\n".join(entry_plain(e, "en") for e in answer.entries)
    assert answer.band is Band.ANSWER and "Supervision Law" in sent and "government sanction" in sent.lower()


def test_a_part_the_story_pulls_to_an_earlier_parts_entry_is_answered_by_its_own_words(engine):
    # The flood story pulled "对领导干部能采取哪些问责方式？" to 一案双查, the first question's entry,
    # so it was skipped and the forms of accountability went unanswered.
    asked = ("今年汛期我们镇一个村的值班人员脱岗，出了个小险情，好在没人受伤。县纪委说要“一案双查”，"
             "连分管的副镇长也要查。副镇长很委屈，说自己根本不知道值班表的事。"
             "请问一案双查到底查哪些人？按问责条例，对领导干部能采取哪些问责方式？")
    answer = engine.ask(asked)
    ids = [entry.id for entry in answer.entries]
    assert answer.band is Band.ANSWER
    assert engine.ask("一案双查到底查哪些人？").best.entry.id in ids
    assert engine.ask("对领导干部能采取哪些问责方式？").best.entry.id in ids


def test_a_message_asking_three_things_gets_up_to_three_answers(engine):
    assert engine.ask("什么是一案双查？留置最长多久？怎么匿名反映问题？").entries.__len__() == 3


def test_at_startup_is_not_a_startup_company(engine):
    # "startup" alone was another field's word, and an operator's question about the warning at
    # startup was declined.
    answer = engine.ask("At startup there's a warning that it doesn't know next year's holidays. Should I care?", "en")
    assert answer.band is Band.ANSWER and "chinese-calendar" in entry_plain(answer.best.entry, "en")
    assert engine.ask("Our startup makes everyone fill in daily reports, how do I fix the culture?", "en").band \
        is not Band.ANSWER


def test_a_name_in_pinyin_stays_a_name_among_the_question_terms(engine):
    # The spelling mender left "zhang" alone, but the terms' own typo fixing then made it "hang".
    assert "zhang" in engine.query_terms("what happened to secretary zhang after the inspection")


def test_a_command_typed_with_its_slash_finds_the_entry_about_that_command(tmp_path):
    # "What's /overdue for?" was answered with the deadline entry: "overdue" is in half the ledger
    # entries, while /overdue is named by one.
    command = entry("a-overdue-command", "逾期事项怎么查看", "how supervisors see the list of late items",
                    answer={"zh": "发送 /overdue 查看逾期事项。", "en": "Send /overdue to see the late items."})
    command["keywords"] = {"zh": [], "en": ["/overdue"]}
    deadlines = [entry(f"a-overdue-{n}", f"逾期{topic}", f"what happens when an item is overdue for {topic}")
                 for n, topic in enumerate(("lateness", "extensions", "penalties", "warnings"))]
    engine = KnowledgeEngine(load_knowledge(write_kb(tmp_path / "kb", [command, *deadlines])))
    assert "/overdue" in engine.query_terms("what's /overdue for?")
    assert "/overdue" not in engine.query_terms("what if we are overdue")
    assert engine.ask("What's /overdue for?", "en").best.entry.id == "a-overdue-command"


@pytest.mark.parametrize("polite, plain, language", [
    ("不好意思，打扰一下，麻烦问下，留置是什么", "留置是什么", "zh"),
    ("Sorry, what is 留置 anyway?", "what is 留置", "en"),
])
def test_a_polite_apology_around_a_question_does_not_lower_the_answer(engine, polite, plain, language):
    # "anyway" and 不好意思 are words no entry writes, so they counted against every match and a
    # polite cadre was told "did you mean" or nothing at all.
    answer = engine.ask(polite, language)
    assert answer.band is Band.ANSWER and answer.best.entry.id == engine.ask(plain, language).best.entry.id


def test_an_items_code_is_a_detail_unless_the_question_asks_what_it_means(engine):
    # The pieces of 第一轮-3 (第一, 一轮, 3) are rare words: they outweighed "submit progress with photos".
    answer = engine.ask("How do I submit progress with photos for item 第一轮-3?", "en")
    assert answer.band is Band.ANSWER and "/tasks" in entry_plain(answer.best.entry, "en")
    assert "二轮" in engine.query_terms("二轮-3是什么意思") and "二轮" not in engine.query_terms("二轮-3怎么申请销号")


def test_asking_for_more_time_is_asking_for_an_extension(engine):
    answer = engine.ask("We can't finish by the deadline because the contractor walked off the site. "
                        "Can we ask for more time?", "en")
    assert answer.band is Band.ANSWER and answer.best.entry.id == "ub-extension-request"
    extension = set(engine.query_terms("extension")) - {"extens"}
    assert extension and not extension & set(engine.query_terms("we spend more time on binders than on work"))


def test_two_questions_typed_with_a_space_between_are_both_answered(engine):
    # Typed on a phone without punctuation, and with the dialect's 啥子 and a hearsay 听说, the second
    # question (which year was the burden-reduction year) went unanswered.
    answer = engine.ask("问山会海到底有没有文件管 听说2019年是啥子减负年")
    sent = "\n".join(entry_plain(entry, "zh") for entry in answer.entries)
    assert answer.band is Band.ANSWER and "文山会海" in sent and "基层减负年" in sent
    assert asked_parts("政务处分 和 party discipline 可以同时给吗？一个人能挨两个处分吗") == [
        "政务处分 和 party discipline 可以同时给吗？", "一个人能挨两个处分吗"]


def test_an_item_code_typed_the_english_way_is_a_detail_too(engine):
    assert engine.query_terms("how to change deadline of item R2-5") == engine.query_terms("how to change deadline of item")


def test_almost_and_even_if_ask_nothing():
    # 几乎 ("almost") and 哪怕 ("even if") hold the question words 几 and 哪: "我们镇里几乎天天开会"
    # was read as one of the message's questions.
    assert asked_parts("我们镇里几乎天天开会，文山会海到底有没有人管？哪怕开短会也行，这种情况能不能举报？") == [
        "文山会海到底有没有人管？", "这种情况能不能举报？"]


def test_courtesies_around_an_english_question_do_not_lower_the_answer(engine):
    # "Apologies for my ignorance, but what are the 'four winds'? Thank you!" was a "did you mean":
    # the apology's and the thanks' words are in no entry and counted against every match.
    polite = "Good afternoon! Apologies for my ignorance, but what is 留置? Thank you very much!"
    assert engine.query_terms(polite) == engine.query_terms("what is 留置")
    assert engine.ask(polite, "en").band is Band.ANSWER
    # An apology for what they did, not for asking, is what they ask about.
    assert {"report", "colleagu"} <= set(engine.query_terms("I'm sorry for reporting my colleague, will he find out?"))


def test_a_scholar_comparing_korea_is_not_declined_as_asking_about_korea(engine):
    answer = engine.ask("I'm comparing ombudsman systems. In Korea anonymous complaints are common. How are "
                        "reports handled in China under the current rules, and does a real name change anything?", "en")
    assert answer.band is not Band.UNKNOWN and answer.other_field is None


def test_a_question_someone_passed_on_is_answered_beside_the_askers_own(engine):
    # "有同志问…是哪年修订的" asks as plainly as a question mark, but only the last sentence was read.
    answer = engine.ask("县委巡察办正在准备第三轮巡察的动员会材料。有同志问巡视工作条例最近一次是哪年修订的，"
                        "材料里要写准。另外，巡察发现的“问题”和“线索”在移交上有什么不一样？")
    sent = "\n".join(entry_plain(entry, "zh") for entry in answer.entries)
    assert answer.band is Band.ANSWER and "2024" in sent and "线索" in sent


def test_where_the_asker_met_a_word_is_no_part_of_what_it_means(engine):
    assert engine.query_terms('What are the "four forms" I keep reading about in the news?') == \
        engine.query_terms('What are the "four forms"?')
    assert engine.ask('What are the "four forms" I keep reading about in discipline news?', "en").band is Band.ANSWER


def test_comparing_liuzhi_with_police_detention_is_answered_not_declined(engine):
    # "派出所拘留" was another field's word, so a comparison with it declined a question about 留置.
    answer = engine.ask("新闻里说某某被“留置”了，留置是啥？跟派出所拘留一样吗？")
    assert answer.band is Band.ANSWER and "监察法" in entry_plain(answer.best.entry, "zh")
    assert engine.ask("派出所拘留最多几天").band is Band.UNKNOWN


def test_what_the_bot_keeps_about_me_is_the_privacy_entry(engine):
    # "about me" is all stop words: "what does the bot keep about me" was answered with erasing the chat.
    answer = engine.ask("If I submit a report, what exactly does the bot keep about me?", "en")
    assert answer.band is Band.ANSWER and answer.best.entry.id == "ub-privacy"


def test_everyday_words_for_detention_and_for_acknowledging_find_their_concepts(engine):
    # "keep someone locked up" is 留置, a reminder's "got it" is 已知悉, and "heard on the news
    # something like" is where the asker met the word.
    def concepts(text: str) -> set[str]:
        return {term for term in engine.query_terms(text) if term.startswith("§")}

    assert concepts("留置") <= concepts("What law lets the supervision commission keep someone locked up during an investigation?")
    assert concepts("已知悉") <= concepts("when a unit taps 'got it' on a reminder")
    assert engine.query_terms("Heard on the news something like 'one case, two investigations'. Who gets investigated?") \
        == engine.query_terms("'one case, two investigations'. Who gets investigated?")
