"""The reference corpus: the shipped essays are clean, the cleaner works on any pasted page, bad folders are reported."""
import re
from pathlib import Path

import pytest

from models.corpus import (
    Corpus,
    ReferenceEssay,
    build_corpus_from_seeds,
    clean_reference_text,
    load_corpus,
    main,
    split_title,
)
from models.errors import RubricateError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "corpus" / "stalin_leader"
# Copies of the five raw seed pages, so the shipped folder can be rebuilt without ../shared.
SEEDS = Path(__file__).resolve().parent / "fixtures" / "corpus" / "seeds"
SEED_NAMES = [
    "000_1d73a2fbbbac3496.txt",
    "001_e5895ce79723c7b0.txt",
    "002_6e7bb24f8b07b2a7.txt",
    "003_7c6afc08edcc876d.txt",
    "004_3abd3b8948d5eb1e.txt",
]

CLUTTER = [
    "Authors Avatar",
    "Join now!",
    "This is a preview",
    "preview of the whole essay",
    "As Stalin had",
    "Answered by",
    "Catherine D.",
    "History tutor",
    "3853 Views",
    "See similar",
    "Related History A Level answers",
    "All answers",
    "▸",
    "Mary I",
    "Atlantic Revolutions",
    "Battle of Hastings",
    "historiography",
    "We're here to help",
    "contact us",
    "icon",
    "Whatsapp",
    "logo",
    "Facebook",
    "Instagram",
    "LinkedIn",
    "Cookie Preferences",
    "203 773 6020",
    "spartacus",
    "schoolnet",
    "Edit:",
    "I found this answer",
    "completely and utterly wrong",
    "Killed everyone opposing his candidacy",
    "Stalin was NOT appointed",
    "Khrushchev",
    "lead communism",
]
GENUINE = [
    "Comrade Card-Index",
    "Lenin Enrolment",
    "grey blur",
    "Duumvirate with Bukharin",
    "recommended that Stalin be removed",
    "Stalin tells Trotsky the wrong date for Lenin’s funeral",
    "dull grey blank",
    "I am not sure that he will always know how to use that power with sufficient caution.",
    "Stalin was appointed General Secretary by Lenin, when Lenin proposed this new position in April 1922.",
    "socialism in one country",
    "559 votes to just 65",
    "ousted Zinoviev and Kamenev and took sole power in 1929",
]
URL_OR_PHONE = re.compile(r"https?://|www\.|\.(?:com|org|co\.uk|htm)\b|\+\d{2}|\d{3} \d{3} \d{4}")


@pytest.fixture(scope="module")
def shipped() -> Corpus:
    return load_corpus(SHIPPED)


# ------------------------------------------------------------ shipped corpus
def test_shipped_corpus_holds_the_five_seed_essays_in_seed_order(shipped):
    assert [e.id for e in shipped.essays] == ["ref0", "ref1", "ref2", "ref3", "ref4"]
    assert [e.source_file for e in shipped.essays] == SEED_NAMES


def test_shipped_titles_are_the_essays_headings_and_stay_out_of_the_text(shipped):
    assert shipped.by_id("ref0").title == "Why did stalin become leader of the USSR?"
    assert shipped.by_id("ref1").title == "How did Stalin win Leadership of the Soviet Union"
    for essay in shipped.essays:
        assert essay.title.strip()
        assert not essay.text.startswith(essay.title)


@pytest.mark.parametrize("clutter", CLUTTER)
def test_shipped_corpus_contains_no_website_clutter(shipped, clutter):
    for essay in shipped.essays:
        assert clutter.lower() not in essay.text.lower(), f"{essay.id} still contains {clutter!r}"


def test_shipped_corpus_contains_no_urls_or_phone_numbers(shipped):
    for essay in shipped.essays:
        assert not URL_OR_PHONE.search(essay.text), essay.id


def test_shipped_preview_essay_ends_on_a_finished_sentence(shipped):
    assert not shipped.by_id("ref1").text.rstrip().endswith("...")
    assert shipped.by_id("ref1").text.rstrip().endswith("with sufficient caution.”")


@pytest.mark.parametrize("content", GENUINE)
def test_shipped_corpus_keeps_the_essays_own_points(shipped, content):
    assert any(content in essay.text for essay in shipped.essays), content


def test_shipped_paragraphs_are_separated_by_blank_lines(shipped):
    for essay in shipped.essays:
        assert "\n\n" in essay.text
        assert not re.search(r"[^\n]\n[^\n]", essay.text), f"{essay.id} has a paragraph broken by a single newline"


def test_shipped_folder_is_what_the_cleaner_makes_of_the_seed_pages(shipped, tmp_path):
    # Only the Q&A page has no heading of its own; its title is given when building (corpus/README.md).
    titles = {"004_3abd3b8948d5eb1e.txt": shipped.by_id("ref4").title}
    built = build_corpus_from_seeds(SEEDS, tmp_path, titles)
    assert tuple(built) == shipped.essays
    for essay in built:
        assert (tmp_path / f"{essay.id}.txt").read_text(encoding="utf-8") == (SHIPPED / f"{essay.id}.txt").read_text(encoding="utf-8")


def test_looking_up_an_unknown_essay_id_names_the_known_ids(shipped):
    with pytest.raises(KeyError, match="ref0, ref1"):
        shipped.by_id("ref9")


# ------------------------------------------------------------------ cleaning
TUTOR_PAGE = """Why did the Weimar Republic survive the crisis of 1923?

The Republic survived 1923 because Stresemann called off passive resistance in the Ruhr. He also brought in the Rentenmark, which ended hyperinflation.

The army stayed loyal when Hitler tried to seize power in Munich, so the putsch failed within a day.

Answered by Sam K. History tutor

1204 Views

See similar History A Level tutors

Related History A Level answers

All answers ▸

How far was Bismarck responsible for German unification?


Why did the Tudors fear rebellion?


We're here to help

contact us iconContact usWhatsapp logoMessage us on Whatsapptelephone icon+44 (0) 203 773 6020
Facebook logoInstagram logoLinkedIn logo
Cookie Preferences"""


def test_cleaning_a_tutor_site_page_keeps_only_the_heading_and_the_answer():
    assert clean_reference_text(TUTOR_PAGE) == (
        "Why did the Weimar Republic survive the crisis of 1923?\n\n"
        "The Republic survived 1923 because Stresemann called off passive resistance in the Ruhr. "
        "He also brought in the Rentenmark, which ended hyperinflation.\n\n"
        "The army stayed loyal when Hitler tried to seize power in Munich, so the putsch failed within a day."
    )


PREVIEW_PAGE = """The causes of the First World War

Authors Avatar

The alliance system turned a Balkan quarrel into a European war.\u00a0Germany backed Austria-Hungary without conditions.

Join now!

Militarism mattered too, since the Schlieffen Plan forced Germany to attack France first. As Britain had ...

This is a preview of the whole essay"""


def test_cleaning_a_preview_page_drops_site_links_and_the_cut_off_sentence():
    assert clean_reference_text(PREVIEW_PAGE) == (
        "The causes of the First World War\n\n"
        "The alliance system turned a Balkan quarrel into a European war. Germany backed Austria-Hungary without conditions.\n\n"
        "Militarism mattered too, since the Schlieffen Plan forced Germany to attack France first."
    )


# Q&A pages: one answer per line, no blank lines, corrections and answers to other questions mixed in.
ANSWERS_PAGE = """Henry VIII broke with Rome because the Pope would not annul his marriage to Catherine of Aragon. See http://example.org/henry.htm
"Henry broke with Rome because he hated Catholics. " Edit: I found this answer while looking for something else. It is completely wrong. Henry wanted a male heir and Anne Boleyn, and Cromwell showed him how Parliament could make him head of the Church.
Cromwell drafted the Act of Supremacy of 1534, which made Henry head of the Church in England.
Elizabeth became queen in 1558. Elizabeth later made a religious settlement, and Elizabeth kept bishops. Elizabeth never married.
Money mattered too: Henry later took the wealth of the monasteries."""


def test_cleaning_an_answers_page_drops_the_wrong_answer_it_quotes_and_the_remarks_on_it():
    cleaned = clean_reference_text(ANSWERS_PAGE)
    assert "hated Catholics" not in cleaned
    assert "Edit:" not in cleaned and "I found this answer" not in cleaned and "completely wrong" not in cleaned
    assert "Henry wanted a male heir and Anne Boleyn, and Cromwell showed him how Parliament could make him head of the Church." in cleaned


def test_cleaning_an_answers_page_drops_an_answer_about_someone_no_other_answer_names():
    cleaned = clean_reference_text(ANSWERS_PAGE)
    assert "Elizabeth" not in cleaned
    assert cleaned.split("\n\n") == [
        "Henry VIII broke with Rome because the Pope would not annul his marriage to Catherine of Aragon.",
        "Henry wanted a male heir and Anne Boleyn, and Cromwell showed him how Parliament could make him head of the Church.",
        "Cromwell drafted the Act of Supremacy of 1534, which made Henry head of the Church in England.",
        "Money mattered too: Henry later took the wealth of the monasteries.",
    ]


def test_an_essay_paragraph_about_a_rival_is_kept_even_if_no_other_paragraph_names_what_it_names():
    essay = (
        "Why did Stalin win?\n\n"
        "Trotsky made peace with Germany. Germany took land, Germany took coal and Germany took railways.\n\n"
        "Stalin used the post of General Secretary to promote his supporters."
    )
    assert clean_reference_text(essay) == essay


def test_hard_wrapped_lines_are_joined_into_one_paragraph():
    raw = "Stalin was made General Secretary in 1922,\na post the others thought dull.\n\nHe used it to appoint loyal officials."
    assert clean_reference_text(raw) == "Stalin was made General Secretary in 1922, a post the others thought dull.\n\nHe used it to appoint loyal officials."


def test_years_and_vote_counts_are_not_taken_for_phone_numbers():
    raw = "Between 1917 1924 and 1929 the party grew. He won by 559 votes to 65 in 1925."
    assert clean_reference_text(raw) == raw


def test_a_title_is_a_short_first_line_not_a_sentence():
    assert split_title("Why did Stalin win?\n\nHe was General Secretary.") == ("Why did Stalin win?", "He was General Secretary.")
    assert split_title("Stalin won because he was General Secretary.\n\nHe built a following.") == (
        None,
        "Stalin won because he was General Secretary.\n\nHe built a following.",
    )


def test_the_essay_s_own_question_heading_under_the_page_title_stays_out_of_the_text():
    page = ("How did Stalin win Leadership of the Soviet Union\n\nWhy did Stalin rather than Trotsky emerge as the leader of "
            "the USSR in 1929..\n\nStalin emerged as the leader in 1929.\n\nHe used his post.")
    assert split_title(page) == ("How did Stalin win Leadership of the Soviet Union", "Stalin emerged as the leader in 1929.\n\nHe used his post.")
    essay = "Title\n\nWhy did Stalin win? Because he was General Secretary.\n\nHe used his post."
    assert split_title(essay) == ("Title", "Why did Stalin win? Because he was General Secretary.\n\nHe used his post.")  # a sentence follows


# ------------------------------------------------------------------ building
def test_building_writes_one_file_per_page_and_a_manifest_that_loads_back(tmp_path):
    seeds = tmp_path / "raw"
    seeds.mkdir()
    (seeds / "a.txt").write_text(TUTOR_PAGE, encoding="utf-8")
    (seeds / "b.txt").write_text(ANSWERS_PAGE, encoding="utf-8")
    built = build_corpus_from_seeds(seeds, tmp_path / "weimar", {"b.txt": "Why did Henry VIII break with Rome?"})

    corpus = load_corpus(tmp_path / "weimar")
    assert list(corpus.essays) == built
    assert [(e.id, e.title, e.source_file) for e in corpus.essays] == [
        ("ref0", "Why did the Weimar Republic survive the crisis of 1923?", "a.txt"),
        ("ref1", "Why did Henry VIII break with Rome?", "b.txt"),
    ]
    assert corpus.by_id("ref0").text.startswith("The Republic survived 1923")


def test_building_names_an_untitled_page_by_its_file(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "page.txt").write_text(ANSWERS_PAGE, encoding="utf-8")
    [essay] = build_corpus_from_seeds(tmp_path / "raw", tmp_path / "out")
    assert essay.title == "Untitled reference essay (page.txt)"


def test_building_reports_a_page_with_nothing_but_site_menus(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "menus.txt").write_text("Authors Avatar\n\nJoin now!\n\nCookie Preferences", encoding="utf-8")
    with pytest.raises(RubricateError, match="menus.txt"):
        build_corpus_from_seeds(tmp_path / "raw", tmp_path / "out")


def test_building_from_a_folder_without_pages_names_the_folder(tmp_path):
    with pytest.raises(RubricateError, match=re.escape(str(tmp_path / "nothing"))):
        build_corpus_from_seeds(tmp_path / "nothing", tmp_path / "out")


def test_build_command_writes_the_corpus_and_reports_bad_titles(tmp_path, capsys):
    assert main(["build", str(SEEDS), str(tmp_path / "out"), "--title", "004_3abd3b8948d5eb1e.txt=Short answers"]) == 0
    assert load_corpus(tmp_path / "out").by_id("ref4").title == "Short answers"
    assert main(["build", str(SEEDS), str(tmp_path / "out"), "--title", "no-equals-sign"]) == 1
    assert "SOURCE_FILE=TITLE" in capsys.readouterr().err


# ------------------------------------------------------------------- loading
def _corpus_folder(tmp_path: Path, manifest: str, files: dict[str, str]) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "manifest.yaml").write_text(manifest, encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


TWO_ESSAYS = """essays:
- {id: ref0, title: One, source_file: one.txt}
- {id: ref1, title: Two, source_file: two.txt}
"""


def test_loading_a_missing_folder_names_it(tmp_path):
    with pytest.raises(RubricateError, match=re.escape(str(tmp_path / "absent"))):
        load_corpus(tmp_path / "absent")


def test_loading_an_empty_folder_names_it(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RubricateError, match=re.escape(str(tmp_path / "empty")) + ".*empty"):
        load_corpus(tmp_path / "empty")


def test_loading_a_folder_without_a_manifest_names_the_missing_file(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ref0.txt").write_text("Stalin was General Secretary.", encoding="utf-8")
    with pytest.raises(RubricateError, match="manifest.yaml"):
        load_corpus(folder)


def test_loading_a_broken_manifest_names_it(tmp_path):
    folder = _corpus_folder(tmp_path, "essays: [unclosed", {})
    with pytest.raises(RubricateError, match=re.escape(str(folder / "manifest.yaml"))):
        load_corpus(folder)


def test_loading_a_manifest_without_essays_says_what_it_expects(tmp_path):
    folder = _corpus_folder(tmp_path, "title: nothing here\n", {})
    with pytest.raises(RubricateError, match="'essays'"):
        load_corpus(folder)


def test_loading_a_manifest_entry_without_a_title_names_the_field(tmp_path):
    folder = _corpus_folder(tmp_path, "essays:\n- {id: ref0, source_file: one.txt}\n", {"ref0.txt": "Text."})
    with pytest.raises(RubricateError, match="essay 1: field 'title'"):
        load_corpus(folder)


def test_loading_a_manifest_that_names_a_missing_file_names_that_file(tmp_path):
    folder = _corpus_folder(tmp_path, TWO_ESSAYS, {"ref0.txt": "Stalin was General Secretary."})
    with pytest.raises(RubricateError, match=re.escape(str(folder / "ref1.txt"))):
        load_corpus(folder)


def test_loading_an_empty_essay_file_names_it(tmp_path):
    folder = _corpus_folder(tmp_path, TWO_ESSAYS, {"ref0.txt": "Stalin was General Secretary.", "ref1.txt": "  \n"})
    with pytest.raises(RubricateError, match=re.escape(str(folder / "ref1.txt")) + ".*empty"):
        load_corpus(folder)


def test_loading_an_essay_file_that_is_not_text_names_it(tmp_path):
    folder = _corpus_folder(tmp_path, TWO_ESSAYS, {"ref0.txt": "Stalin was General Secretary."})
    (folder / "ref1.txt").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(RubricateError, match=re.escape(str(folder / "ref1.txt"))):
        load_corpus(folder)


def test_loading_repeated_ids_names_the_manifest_and_the_id(tmp_path):
    manifest = TWO_ESSAYS.replace("id: ref1", "id: ref0")
    folder = _corpus_folder(tmp_path, manifest, {"ref0.txt": "Stalin was General Secretary."})
    with pytest.raises(RubricateError, match=re.escape(str(folder / "manifest.yaml")) + ".*'ref0' is used twice"):
        load_corpus(folder)


def test_loading_a_valid_folder_reads_each_essay_by_id(tmp_path):
    folder = _corpus_folder(tmp_path, TWO_ESSAYS, {"ref0.txt": "First essay.\n", "ref1.txt": "Second essay.\n"})
    corpus = load_corpus(folder)
    assert corpus.path == folder
    assert corpus.by_id("ref1") == ReferenceEssay("ref1", "Two", "two.txt", "Second essay.")

