"""thesession.org's ``tunes.csv`` byte for byte as github.com/adactio/TheSession-data writes it
today: a ``composer`` column after ``date`` and ``username``, line feeds, chord symbols quoted
``""D""``, names such as ``#``, ``$150 Boot, The`` and ``‘Ma' McNulty's``, modes glued to their
tonic (``Gmajor``), and bodies that open with ``M:`` or hold ``K:`` and ``V:`` lines. The rows
are short ones written for these tests in the dump's layout."""

from __future__ import annotations

import json

from modeling_irish.abc_corpus import load_abc_corpus, title_key

HEADER = "tune_id,setting_id,name,type,meter,mode,abc,date,username,composer\n"
ROWS = [
    '5399,5399,#,polka,2/4,Gmajor,"|:GB dB|ef ge|dB AG|AF ED|\nGB dB|ef ge|dc BA|G2 G2:|",'
    '"2006-01-05 20:22:07",fidicen,',
    '5399,17569,#,polka,2/4,Gmajor,"|:G>B dG|ef g>e|dB B/A/G|A2 FE/D/|\nGG/B/ dG|ee/f/ g>e|'
    'dB c/B/A/F/|G3:|","2007-03-16 14:39:32",ceolachan,',
    '18105,35234,"$150 Boot, The",polka,2/4,Gmajor,"|:d>g fe|dB AG|E/F/G E/F/G|BA GF|\n'
    'd>g fe|dB AG|E/F/G E/F/G|BA G2:|","2019-07-06 04:39:09",NfldWhistler,"Jeff Ksiazek"',
    '26102,55813,"‘Ma\' McNulty\'s Favourite",hornpipe,4/4,Edorian,"B2 E>F G>A B2|A2 D>E F>G A2|'
    '\nB2 E>F G>AB>c|d>BA>F E2E2||","2025-11-13 19:01:49","The Archivist",',
    '13684,43688,"100 Watt Reels",reel,4/4,Ddorian,"|:""A""dDD/D/D ADD/D/D|""D""dDD/D/D c2Bc|'
    '\ndA BA Bd cA|GE CE G2 FG:|","2022-04-25 20:37:44",paddy04,',
    '22859,46394,10-Na,"slip jig",9/8,Adorian,"|:E2A ABc B2G|c2A ABc B2G|\nK:D\n'
    'c2A ABc d2B|e2c cde d2B||","2023-03-09 13:30:50","gian marco",',
    '16173,31268,"15th Scottish Division",waltz,3/4,Dmajor,"V:1\n|:ag|""D""f2 fg/f/ ef/e/|d2 A2 dc|'
    '\nV:2\n|:fe|d2 d2 A2|FE F2 F2|","2017-11-08 03:13:15",JACKB,',
    '17726,34482,23,barndance,4/4,Gminor,"M:3/4\ng4 g2|g4 f2|g6|d6|g4 g2|g4 f2|g6|Hd6:|",'
    '"2019-03-14 11:09:52",suskin,',
]


def _dump(tmp_path):
    path = tmp_path / "tunes.csv"
    path.write_bytes((HEADER + "\n".join(ROWS) + "\n").encode("utf-8"))
    return path


def _rows(corpus) -> dict[str, dict]:
    return {row["setting_id"]: {**row, "split": name} for name in corpus for row in corpus[name]}


def test_the_real_csv_layout_reads_every_row_with_its_fields(tmp_path):
    corpus = load_abc_corpus(str(_dump(tmp_path)), split_ratios=(0.6, 0.2, 0.2))
    assert (corpus.report["read"], corpus.report["parsed"]) == (8, 8)
    rows = _rows(corpus)
    got = {s: (r["title"], r["rhythm"], r["meter"], r["key"]) for s, r in rows.items()}
    assert got == {
        "5399": ("#", "polka", "2/4", "G major"),
        "17569": ("#", "polka", "2/4", "G major"),
        "35234": ("$150 Boot, The", "polka", "2/4", "G major"),
        "55813": ("‘Ma' McNulty's Favourite", "hornpipe", "4/4", "E dorian"),
        "43688": ("100 Watt Reels", "reel", "4/4", "D dorian"),
        "46394": ("10-Na", "slip jig", "9/8", "A dorian"),  # the key it starts in
        "31268": ("15th Scottish Division", "waltz", "3/4", "D major"),
        "34482": ("23", "barndance", "3/4", "G minor"),  # the body's M:, not the row's 4/4
    }
    boot = rows["35234"]["abc"]
    assert "\nC:Jeff Ksiazek\n" in boot  # the composer, kept as metadata
    assert "NfldWhistler" not in boot and "2019" not in boot  # date and username are not
    assert '|:"A"dDD/D/D ADD/D/D|"D"dDD/D/D' in rows["43688"]["abc"]  # ""A"" is a chord "A"
    assert rows["31268"]["n_notes"] == 13  # the first voice; V:2's 12 notes are dropped
    assert rows["5399"]["split"] == rows["17569"]["split"]  # one tune id, one split


def test_a_title_of_signs_alone_is_a_title_and_curly_apostrophes_are_dropped():
    """thesession's tune 5399 is named ``#``: its key was "", so the loader linked nothing by
    it and ``index`` left both its settings out "without a title"; ``‘`` (which thesession
    writes, "‘Ma' McNulty's") split a word where ``'`` and ``’`` join it."""
    assert title_key("#") == "#" and title_key(" $  $ ") == "$ $"
    assert title_key("O‘Neill’s March") == title_key("O'Neill's March") == "oneills march"
    for placeholder in ("?", "-", "...", " … ", "—", "x", ""):
        assert title_key(placeholder) == "", placeholder


def test_index_names_a_tune_titled_with_a_sign(tmp_path, capsys):
    from modeling_irish.cli import main
    from modeling_irish.name_that_tune import TuneIndex
    from tokenization.tokenization_abc import AbcTokenizer

    dump = _dump(tmp_path)
    corpus = load_abc_corpus(str(dump), split_ratios=(1.0, 0.0, 0.0))
    AbcTokenizer.train(corpus["train"]["abc"]).save_pretrained(tmp_path / "tok")
    tokenizer = AbcTokenizer.from_pretrained(tmp_path / "tok")
    index = TuneIndex.build(None, tokenizer, str(dump))
    assert index.meta["report"]["untitled"] == 0
    assert "#" in index.titles and "$150 Boot, The" in index.titles
    index.save(str(tmp_path / "index"))
    snippet = tmp_path / "snippet.abc"
    snippet.write_text("X:1\nT:?\nM:2/4\nL:1/8\nK:G\n|:GB dB|ef ge|dB AG|\n", encoding="utf-8")
    assert main(["identify", "--index", str(tmp_path / "index"), str(snippet), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["tunes"][0]["top"]
    assert top[0]["title"] == "#"
