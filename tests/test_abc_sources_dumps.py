"""thesession.org dumps in their real shape (github.com/adactio/TheSession-data): ``tunes.csv``
(header row, CRLF, quoted fields, a byte-order mark as Excel saves it) and ``tunes.json`` (one
array, every value a string, keys the loader does not know), the ABC body only, names and ABC
escaped as the web pages escape them (``&#039;``, ``&quot;``, ``&amp;``)."""

from __future__ import annotations

import json

import pytest
from helpers import write_csv_dump

from modeling_irish.abc_corpus import load_abc_corpus

CRLF = "\r\n"
COOLEY = "|:D2|EBBA B2 EB|B2 AB dBAG|FDAD BDAD|FDAD dAFD|" + CRLF + "EBBA B2 EB|B2 AB defg|"
KESH = "|:G3 GAB|A3 ABd|edd gdd|edB dBA|" + CRLF + "GAB GAB|A3 ABd|edd gdB|AGF G3:|"
#: (tune_id, setting_id, name, type, meter, mode, abc): 20 rows, as the dump spells them
SETTINGS = [
    ("1", "1", "Cooley&#039;s", "reel", "4/4", "Edorian", COOLEY),
    ("1", "12342", "Cooley&#039;s", "reel", "4/4", "Edorian",
     "&quot;Em&quot;EBBA B2 EB|&quot;D&quot;B2 AB dBAG|FDAD BDAD|FDAD dAFD|"),
    ("55", "55", "Kesh, The", "jig", "6/8", "Gmajor", KESH),
    ("55", "55", "Kesh, The", "jig", "6/8", "Gmajor", KESH),  # the same setting twice
    ("70", "70", "Foxhunter&#039;s, The", "slip jig", "9/8", "Dmixolydian",
     "A2F AFA d2e|f2d e2d cBA|A2F AFA d2e|fed cde d3:|"),
    ("80", "80", "Dear Irish Boy, The", "slide", "12/8", "Dmajor",
     "A2F A2F ABc d2A|d2e f2d e2d cBA|A2F A2F ABc d2A|fed cde d3 d2:|"),
    ("90", "90", "Britches Full Of Stitches", "polka", "2/4", "Amajor",
     "A>B AF|ED FA|A>B AF|EF E2|"),
    ("91", "91", "Sí Bheag, Sí Mhór", "waltz", "3/4", "Dmajor",
     "de|f2 e2 d2|B4 A2|B2 d2 e2|f4 de|"),
    ("92", "92", "Boys Of Bluehill, The", "hornpipe", "4/4", "Dmajor",
     "FA|B2 AF ABde|faef d2 FA|B2 AF ABde|faef d2:|"),
    ("93", "93", "Jenny &amp; The Piper", "barndance", "4/4", "Gmajor",
     "GA|B2 BA B2 d2|e2 dB A2 GA|B2 BA B2 d2|gedB A2:|"),
    ("94", "94", "Marquis Of Huntly&#039;s, The", "strathspey", "4/4", "Aminor",
     "A<A E>A c<A E>A|G>A B<d g>e d<B|A<A E>A c<A E>A|e>d B<d A2 A2:|"),
    ("95", "95", "Sliabh Russell", "three-two", "3/2", "Gmajor",
     "G2 B2 d2 g2 d2 B2|c2 e2 g2 e2 c2 A2|G2 B2 d2 g2 d2 B2|A2 F2 D2 F2 G4:|"),
    ("96", "96", "Shoe The Donkey", "mazurka", "3/4", "Gmajor",
     "D|G2 GA Bc|d2 B2 G2|A2 AB cd|e2 c2 A2|"),
    ("97", "97", "O&#039;Sullivan&#039;s March", "march", "6/8", "Edorian",
     "B|e2 e edB|e2 f g2 a|bag fed|B2 A B2:|"),
    ("98", "98", "&quot;Humours&quot; Of Ennis, The", "jig", "6/8", "Gmajor",
     "GAG GAB|d2 B dBG|FGA DEF|GAB AFD|"),
    ("99", "99", "Empty One", "reel", "4/4", "Dmajor", ""),
    ("100", "100", "Broken One", "reel", "4/4", "Dmajor", "ABcd [efg|abc' d'|"),
    ("101", "101", "Port Na Bpúcaí", "slip jig", "9/8", "Adorian",
     "A2B c2d e2f|g2e d2B c2A|A2B c2d e2f|g2e d2B A3:|"),
    ("102", "102", "Tatter Jack Walsh", "jig", "6/8", "Dmixolydian",
     "A|d2 A FAA|dAF GFE|" + CRLF + CRLF + "|:f|g2 e fed|cAB c2d|"),  # a blank line inside
    ("103", "103", "Ríl Bhríd", "reel", "4/4", "Bminor",
     "FB~B2 FBdB|A2 FA EAFA|FB~B2 FBdB|AFEF B2:|"),
]  # fmt: skip
FIELDS = ("tune_id", "setting_id", "name", "type", "meter", "mode", "abc")
#: setting_id -> (title, rhythm, meter, mode, key) of the corpus's row
EXPECTED = {
    "1": ("Cooley's", "reel", "4/4", "dorian", "E dorian"),
    "12342": ("Cooley's", "reel", "4/4", "dorian", "E dorian"),
    "55": ("Kesh, The", "jig", "6/8", "major", "G major"),
    "70": ("Foxhunter's, The", "slip jig", "9/8", "mixolydian", "D mixolydian"),
    "80": ("Dear Irish Boy, The", "slide", "12/8", "major", "D major"),
    "90": ("Britches Full Of Stitches", "polka", "2/4", "major", "A major"),
    "91": ("Sí Bheag, Sí Mhór", "waltz", "3/4", "major", "D major"),
    "92": ("Boys Of Bluehill, The", "hornpipe", "4/4", "major", "D major"),
    "93": ("Jenny & The Piper", "barndance", "4/4", "major", "G major"),
    "94": ("Marquis Of Huntly's, The", "strathspey", "4/4", "minor", "A minor"),
    "95": ("Sliabh Russell", "three-two", "3/2", "major", "G major"),
    "96": ("Shoe The Donkey", "mazurka", "3/4", "major", "G major"),
    "97": ("O'Sullivan's March", "march", "6/8", "dorian", "E dorian"),
    "98": ('"Humours" Of Ennis, The', "jig", "6/8", "major", "G major"),
    "101": ("Port Na Bpúcaí", "slip jig", "9/8", "dorian", "A dorian"),
    "102": ("Tatter Jack Walsh", "jig", "6/8", "mixolydian", "D mixolydian"),
    "103": ("Ríl Bhríd", "reel", "4/4", "minor", "B minor"),
}


def _rows() -> list[dict[str, str]]:
    rows = [dict(zip(FIELDS, setting)) for setting in SETTINGS]
    return [{**row, "date": "2001-05-14 20:56:52", "username": "Jeremy"} for row in rows]


def write_dump(folder, kind: str):
    """The 20 settings as ``tunes.csv`` (BOM, CRLF) or ``tunes.json`` (with unknown keys)."""
    path = folder / f"tunes.{kind}"
    if kind == "csv":
        write_csv_dump(path, _rows(), "utf-8-sig")
    else:
        rows = [{**row, "tunebooks": "12", "aliases": ["x"]} for row in _rows()]
        path.write_text(json.dumps(rows, indent=4, ensure_ascii=False), encoding="utf-8")
    return path


def _all_rows(corpus) -> list[dict]:
    return [{**row, "split": name} for name in corpus for row in corpus[name]]


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_every_column_of_a_real_shaped_dump(tmp_path, kind):
    path = write_dump(tmp_path, kind)
    rows = _all_rows(load_abc_corpus(str(path), split_ratios=(0.6, 0.2, 0.2)))
    assert len(rows) == len(EXPECTED)
    for row in rows:
        setting = row["setting_id"]
        got = (row["title"], row["rhythm"], row["meter"], row["mode"], row["key"])
        assert got == EXPECTED[setting], setting
        assert row["tune_id"] == ("1" if setting == "12342" else setting)
        assert row["source"] == str(path)
        x = next(i for i, s in enumerate(SETTINGS, 1) if s[1] == setting)
        assert row["x"] == x  # the row number (the first of a duplicated setting)
        head = f"X:{x}\nT:{EXPECTED[setting][0]}\n"
        assert row["abc"].startswith(head + f"S:https://thesession.org/tunes/{row['tune_id']}")
        assert "\r" not in row["abc"] and "\n\n" not in row["abc"]


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_html_character_references_of_a_dump_are_decoded(tmp_path, kind):
    """``&quot;Em&quot;`` was read as a voice overlay ``&`` and stray letters, 14 of the
    setting's 30 notes lost without a word; ``Cooley&#039;s`` kept its entity as its title,
    so it did not link to "Cooley's" of a tunebook, and could land in another split."""
    book = tmp_path / "book.abc"
    book.write_text(
        "X:1\nT:Cooley's\nM:4/4\nL:1/8\nK:Edor\nEBBA B2 EB|B2 AB defg|afec dBAF|\n",
        encoding="utf-8",
    )
    dump = write_dump(tmp_path, kind)
    rows = _all_rows(load_abc_corpus([str(dump), str(book)], split_ratios=(0.6, 0.2, 0.2)))
    chords = next(row for row in rows if row["setting_id"] == "12342")
    assert chords["abc"].endswith('\n"Em"EBBA B2 EB|"D"B2 AB dBAG|FDAD BDAD|FDAD dAFD|\n')
    assert chords["n_notes"] == 30
    assert not [row["title"] for row in rows if "&" in row["title"].replace(" & ", "")]
    assert not [row["abc"] for row in rows if ";" in row["abc"]]
    cooleys = [row for row in rows if row["tune_id"] == "1" or row["source"] == str(book)]
    assert len(cooleys) == 3 and len({row["split"] for row in cooleys}) == 1


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_skips_duplicates_and_splits_of_a_real_shaped_dump_add_up(tmp_path, kind):
    path = write_dump(tmp_path, kind)
    corpus = load_abc_corpus(str(path), split_ratios=(0.6, 0.2, 0.2))
    report = corpus.report
    assert (report["read"], report["parsed"], report["skipped"]) == (20, 18, 2)
    assert report["read"] == report["parsed"] + report["skipped"]
    assert report["parsed"] == report["duplicates"] + sum(report["splits"].values())
    assert report["duplicates"] == 1  # the Kesh, twice
    assert report["skipped_at"] == {
        "dump row without ABC text in 'abc'": [f"{path} row 16"],
        "AbcParseError: bar line inside a chord": [
            f"{path} row 17: X:17 Broken One: line 8 of its tune text, column 10: bar line "
            "inside a chord"
        ],
    }
    rows = _all_rows(corpus)
    assert len({row["split"] for row in rows if row["tune_id"] == "1"}) == 1  # two settings


def test_the_tokenized_view_of_a_dump_is_the_same_with_two_processes(tmp_path, monkeypatch):
    import tokenization.dataset
    from tokenization.dataset import tokenize_dataset

    monkeypatch.setattr(tokenization.dataset, "MIN_TUNES_FOR_WORKERS", 1)  # workers, tiny splits
    from tokenization.tokenization_abc import AbcTokenizer

    corpus = load_abc_corpus(str(write_dump(tmp_path, "csv")), split_ratios=(0.6, 0.2, 0.2))
    tok = AbcTokenizer.train(corpus["train"]["abc"])
    one, two = tokenize_dataset(corpus, tok), tokenize_dataset(corpus, tok, num_proc=2)
    for name in corpus:
        assert two[name]["input_ids"] == one[name]["input_ids"]
        assert len(two[name]) == len(corpus[name]) and two.tokenize_report[name]["unreadable"] == 0
