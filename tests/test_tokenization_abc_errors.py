"""What AbcTokenizer refuses and how it says so: bad calls, vocabulary files and folders, several
tunes in one text, parse errors named by item, and what the reader leaves out, logged."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import no_hub_token, record_hub_commits, unreachable_hub
from tokenization_abc_helpers import (
    DORIAN_REEL,
    KESH,
    MINOR_WITH_CHORD,
    TUNES,
    abc_tokenizer,  # noqa: F401 (the tokenizer fixture)
)

from tokenization.features import FEATURE_NAMES
from tokenization.tokenization_abc import AbcTokenizer


def test_adding_words_to_the_vocabulary_is_refused(tokenizer):
    size = len(tokenizer)
    with pytest.raises(NotImplementedError, match="AbcTokenizer.train"):
        tokenizer.add_tokens(["newtok"])
    assert len(tokenizer) == size
    assert tokenizer.add_tokens([]) == 0


def test_return_tensors_np_none_and_bad(tokenizer):
    as_np = tokenizer(TUNES, return_tensors="np")
    as_pt = tokenizer(TUNES)
    assert isinstance(as_np["input_ids"], np.ndarray)
    np.testing.assert_array_equal(as_np["input_ids"], as_pt["input_ids"].numpy())
    assert isinstance(tokenizer(KESH, return_tensors=None)["input_ids"], list)
    with pytest.raises(ValueError, match="return_tensors"):
        tokenizer(KESH, return_tensors="tf")


def test_bad_calls_say_what_is_wrong(tokenizer):
    with pytest.raises(ValueError, match="no tunes"):
        tokenizer([])
    with pytest.raises(ValueError, match="max_length"):
        tokenizer(KESH, max_length=-1)
    with pytest.raises(ValueError, match="no rows"):
        tokenizer.decode(np.zeros((3, len(FEATURE_NAMES)), dtype=np.int64))
    tokenizer.padding_side = "left"
    try:
        with pytest.raises(ValueError, match="right"):
            tokenizer(KESH)
    finally:
        tokenizer.padding_side = "right"


def test_a_broken_vocabulary_file_is_named(tmp_path):
    from tokenization.vocabulary import AbcVocab

    (tmp_path / "abc_vocab.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="abc_vocab.json: not a vocabulary JSON"):
        AbcVocab.load(tmp_path / "abc_vocab.json")


def test_a_text_with_several_tunes_is_refused_not_cut_to_the_first(tokenizer):
    from tokenization.abc_parser import AbcParseError

    book = KESH + "\n\n" + KESH.replace("X:1", "X:2", 1)
    with pytest.raises(AbcParseError, match="2 tunes in one text"):
        tokenizer.encode_tune(book)
    with pytest.raises(AbcParseError, match="give one tune per string"):
        tokenizer(book)
    assert len(tokenizer([KESH, KESH])["input_ids"]) == 2


def test_clear_errors_for_a_missing_folder_a_bad_vocabulary_file_and_an_unknown_id(tokenizer):
    with pytest.raises(OSError, match="'/no/such/folder': no such folder here"):
        AbcTokenizer.from_pretrained("/no/such/folder")
    with pytest.raises(ValueError, match="not a vocabulary JSON file"):
        AbcTokenizer(vocab_file="/bin/ls")
    with pytest.raises(ValueError, match="is not in the vocabulary"):
        tokenizer.decode([[999999] * 20])
    # the rows are read by list lookups: a negative or too large id of a readable row is still
    # refused by name (a negative one would index a list from its end)
    rows = tokenizer.encode_tune(KESH).input_ids.copy()
    for column, value in ((1, -1), (1, 10**6), (0, 10**6)):
        bad = rows.copy()
        bad[5, column] = value
        with pytest.raises(ValueError, match=f"id {value} of feature '(main|dur)' is not in"):
            tokenizer.decode(bad)


def test_a_mistyped_path_is_said_to_be_no_folder_and_no_hub_repository(
    tokenizer, tmp_path, monkeypatch
):
    """``from_pretrained("runs/measurenote-smal")`` (a typo) said the folder "holds no
    abc_vocab.json", blaming a folder that does not exist."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.chdir(tmp_path)
    hub = tmp_path / "hub"
    (tmp_path / "runs" / "empty").mkdir(parents=True)
    with pytest.raises(OSError, match="'runs/measurenote-smal': no such folder here, though runs/ "
                       "is one .no folder in it with a close name.; give a saved"):  # fmt: skip
        AbcTokenizer.from_pretrained("runs/measurenote-smal", cache_dir=hub)
    with pytest.raises(OSError, match="'someone/abd': no such folder here, and not found on the "
                       "Hub: the Hub's cache .offline"):  # fmt: skip
        AbcTokenizer.from_pretrained("someone/abd", cache_dir=hub)
    with pytest.raises(OSError, match="'runs/m/step_1': no such folder here, and not a Hub repo"):
        AbcTokenizer.from_pretrained("runs/m/step_1", cache_dir=hub)
    with pytest.raises(OSError, match="'runs/empty' holds no abc_vocab.json"):
        AbcTokenizer.from_pretrained("runs/empty", cache_dir=hub)
    # a Hub repository id still loads (from a cache laid out as huggingface_hub lays it out)
    repo = hub / "models--someone--abc"
    tokenizer.save_pretrained(repo / "snapshots" / ("0" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40, encoding="utf-8")
    assert AbcTokenizer.from_pretrained("someone/abc", cache_dir=hub) == tokenizer


def test_save_pretrained_with_push_to_hub_saves_before_it_uploads(tokenizer, tmp_path, monkeypatch):
    """transformers' save_pretrained(push_to_hub=True) creates the Hub repository before it
    writes anything: with no network the folder was left without the vocabulary."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    with pytest.raises(OSError, match="HF_HUB_OFFLINE is set"):
        tokenizer.save_pretrained(tmp_path / "tok", push_to_hub=True, commit_message="m")
    assert AbcTokenizer.from_pretrained(tmp_path / "tok") == tokenizer
    commits = record_hub_commits(monkeypatch)
    tokenizer.save_pretrained(
        tmp_path / "hub", push_to_hub=True, commit_message="m", repo_id="me/t"
    )
    tokenizer.save_pretrained(tmp_path / "hub", None, None, True, token="t")  # by position
    assert [(c["repo_id"], c["commit_message"], c["token"]) for c in commits] == [
        ("me/t", "m", None),
        ("hub", "Upload tokenizer", "t"),
    ]
    assert "abc_vocab.json" in commits[0]["files"]


def test_save_pretrained_with_push_to_hub_refuses_a_folder_name_that_is_no_hub_id(
    tokenizer, tmp_path
):
    """Without a repo_id the upload goes to the folder's name: one that is no Hub id saved the
    folder, then failed the upload blamed on offline mode or the token, never on the name."""
    folder = tmp_path / "my tokenizer"
    with pytest.raises(ValueError) as refused:
        tokenizer.save_pretrained(folder, push_to_hub=True)
    assert str(refused.value).startswith(
        "save_pretrained(push_to_hub=True): no repo_id given, and the folder's name "
        f"'my tokenizer' (of {str(folder)!r}) is no Hub repository id: its name 'my tokenizer' "
        "holds ' '; a Hub id is `name` or `user/name`: letters a-z A-Z, digits, '-', '_' and"
    )
    assert str(refused.value).endswith("; pass repo_id='user/name'")
    assert not folder.exists()  # refused before anything is saved
    with pytest.raises(ValueError, match="repo_id 'me/a/b': 'me/a/b' has 3 parts separated"):
        tokenizer.save_pretrained(tmp_path / "tok", push_to_hub=True, repo_id="me/a/b")
    assert not (tmp_path / "tok").exists()


def test_a_failed_upload_of_the_tokenizer_says_why_in_one_line_as_the_models_do(
    tokenizer, tmp_path, monkeypatch
):
    """Offline, without a token or a network, save_pretrained(push_to_hub=True) and push_to_hub
    raised the Hub client's own errors (OfflineModeIsEnabled, the HTTP client's ConnectError,
    a 401 naming no token), where the models' save_pretrained says in one line what is wrong."""
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    from tokenization.hub_errors import HubUploadError

    folder = tmp_path / "tok"
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    with pytest.raises(HubUploadError) as failed:
        tokenizer.save_pretrained(folder, push_to_hub=True, repo_id="me/t")
    assert str(failed.value) == (
        "save_pretrained(push_to_hub=True): the upload to me/t failed (HF_HUB_OFFLINE is set, "
        f"so nothing can be uploaded); the tokenizer is saved in {folder}: upload it later "
        "with tokenizer.push_to_hub or `hf upload`"
    )
    assert isinstance(failed.value.__cause__, OfflineModeIsEnabled)
    assert AbcTokenizer.from_pretrained(folder) == tokenizer
    with pytest.raises(HubUploadError) as failed:  # nothing saved: push_to_hub's temporary folder
        tokenizer.push_to_hub("me/t")
    assert str(failed.value) == (
        "push_to_hub: the upload to me/t failed (HF_HUB_OFFLINE is set, so nothing can be uploaded)"
    )

    unreachable_hub(monkeypatch)
    monkeypatch.setenv("HF_TOKEN", "hf_t")
    refused = r"failed \(ConnectionError: \[Errno 111\] Connection refused\)"
    with pytest.raises(HubUploadError, match=refused + "; the tokenizer is saved in") as failed:
        tokenizer.save_pretrained(folder, push_to_hub=True, repo_id="me/t")
    assert "\n" not in str(failed.value)
    with pytest.raises(HubUploadError, match=f"^push_to_hub: the upload to me/t {refused}$"):
        tokenizer.push_to_hub("me/t")
    # no token: said so, with how to give one (the Hub's 401 names none); push_to_hub's token
    # is one
    no_hub_token(monkeypatch, tmp_path)
    no_token = r"failed \(no Hub token; log in with `hf auth login` or pass token=\)"
    with pytest.raises(HubUploadError, match=no_token):
        tokenizer.save_pretrained(folder, push_to_hub=True, repo_id="me/t")
    with pytest.raises(HubUploadError, match=no_token):
        tokenizer.push_to_hub("me/t")
    with pytest.raises(HubUploadError, match=refused):
        tokenizer.push_to_hub("me/t", token="hf_t")
    commits = record_hub_commits(monkeypatch)  # an upload that works is as it was
    tokenizer.push_to_hub("me/t", commit_message="m")
    assert [(c["repo_id"], c["commit_message"]) for c in commits] == [("me/t", "m")]
    assert "abc_vocab.json" in commits[0]["files"]


def test_a_local_file_error_of_an_upload_is_its_own_not_the_hubs(tokenizer, tmp_path, monkeypatch):
    """hub_client_errors() holds OSError (the Hub client's offline and connection errors are
    ones), so a local file's failure in save_pretrained(push_to_hub=True) or push_to_hub (the
    model card's README.md refused, the disk full in push_to_hub's temporary folder) was said
    to be a failed upload ("the upload to me/t failed (PermissionError: ...)", log in, upload
    later). It is now the file's own error, naming the file; the Hub's own OSErrors are not."""
    import errno

    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled
    from transformers.utils import hub

    from tokenization.hub_errors import HubUploadError

    class Card:  # the model card that each upload saves as README.md, on a disk that refuses it
        def __init__(self, error):
            self.error = error

        def save(self, path):
            raise self.error(path)

    record_hub_commits(monkeypatch)
    refused = Card(lambda path: PermissionError(errno.EACCES, "Permission denied", path))
    monkeypatch.setattr(hub, "create_and_tag_model_card", lambda *args, **kwargs: refused)
    with pytest.raises(PermissionError) as failed:
        tokenizer.save_pretrained(tmp_path / "tok", push_to_hub=True, repo_id="me/t")
    assert not isinstance(failed.value, HubUploadError)
    assert failed.value.filename == str(tmp_path / "tok" / "README.md")
    full = Card(lambda path: OSError(errno.ENOSPC, "No space left on device"))
    monkeypatch.setattr(hub, "create_and_tag_model_card", lambda *args, **kwargs: full)
    with pytest.raises(OSError, match="No space left on device") as failed:
        tokenizer.push_to_hub("me/t", token="hf_t")
    assert not isinstance(failed.value, HubUploadError)
    from tokenization.hub_errors import local_file_error

    assert not local_file_error(OfflineModeIsEnabled("offline"))  # the Hub client's: the Hub's
    assert not local_file_error(LocalEntryNotFoundError("not in the cache"))


def test_save_pretrained_with_push_to_hub_uploads_the_files_it_saved(
    tokenizer, tmp_path, monkeypatch
):
    """The upload was a second save with defaults (push_to_hub, in a temporary folder): a
    ``filename_prefix`` save uploaded ``abc_vocab.json``, not the folder's ``x-abc_vocab.json``."""
    commits = record_hub_commits(monkeypatch)
    folder = tmp_path / "tok"
    tokenizer.save_pretrained(folder, filename_prefix="x", push_to_hub=True, repo_id="u/t")
    saved = sorted(p.name for p in folder.iterdir())
    assert {"x-abc_vocab.json", "x-tokenizer_config.json"} <= set(saved)
    assert commits[0]["files"] == saved  # README.md (the model card) included
    (folder / "README.md").write_text(
        "my card", encoding="utf-8"
    )  # a folder's own model card is kept
    tokenizer.save_pretrained(folder, filename_prefix="x", push_to_hub=True, repo_id="u/t")
    assert (folder / "README.md").read_text(
        encoding="utf-8"
    ) == "my card" and "README.md" not in commits[1]["files"]


def test_special_tokens_outside_the_vocabulary_are_refused(tokenizer, tmp_path):
    # a new pad token got id len(vocab), past the model's table, and batches still padded with 0
    with pytest.raises(NotImplementedError, match="cannot add the special token '<p2>'"):
        tokenizer.add_special_tokens({"pad_token": "<p2>"})
    assert tokenizer.pad_token_id == 0 and len(tokenizer) == tokenizer.vocab_size
    assert tokenizer.add_special_tokens({"pad_token": "<pad>"}) == 0  # what it has: accepted
    tokenizer.save_pretrained(tmp_path)
    assert AbcTokenizer.from_pretrained(tmp_path).pad_token_id == 0


@pytest.mark.parametrize(
    "change",
    [
        lambda tok: setattr(tok, "pad_token", "<end>"),  # the GPT-2 habit: pad with eos
        lambda tok: setattr(tok, "pad_token", None),
        lambda tok: setattr(tok, "eos_token_id", 0),
        lambda tok: tok.add_special_tokens({"pad_token": "<end>"}),
    ],
)
def test_special_tokens_keep_their_roles(tokenizer, tmp_path, change):
    # pad_token_id said 2 (or None) while batches were still padded with 0, and was saved so
    with pytest.raises(ValueError, match=r"(pad|eos)_token is fixed, '<(pad|end)>' \(id [02]\)"):
        change(tokenizer)
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 2)
    tokenizer.save_pretrained(tmp_path)
    assert AbcTokenizer.from_pretrained(tmp_path).pad_token_id == 0


def test_special_tokens_in_other_roles_are_refused_when_built():
    with pytest.raises(ValueError, match="pad_token is fixed.*not '<end>'.*leave it out"):
        AbcTokenizer(pad_token="<end>")
    tokenizer = AbcTokenizer(pad_token="<pad>", eos_token="<end>")  # the fixed ones: accepted
    tokenizer.bos_token_id = 1
    assert (tokenizer.pad_token_id, tokenizer.bos_token_id) == (0, 1)


def test_convert_ids_to_tokens_of_a_batch_says_to_convert_each_tune(tokenizer):
    batch = tokenizer([KESH, MINOR_WITH_CHORD])["input_ids"]  # (2, rows, 20)
    for ids in (batch, batch.numpy(), batch.tolist(), [[4, 5], [4]]):
        with pytest.raises(ValueError, match="convert each tune"):
            tokenizer.convert_ids_to_tokens(ids)
    with pytest.raises(ValueError, match=r"got \(2, 3\)"):
        tokenizer.convert_ids_to_tokens([[4, 5, 6], [4, 5, 6]])
    tokens = [tokenizer.convert_ids_to_tokens(t) for t in batch]
    assert tokens[0][0] == "<start>" and tokens[0] == tokenizer.convert_ids_to_tokens(batch[0])
    assert tokenizer.convert_ids_to_tokens(batch[0].tolist()) == tokens[0]  # rows as lists


def test_a_parse_error_in_a_batch_names_the_item(tokenizer):
    from tokenization.abc_parser import AbcParseError

    bad = "X:9\nT:Broken\nK:G\nGAB|\n(3>A|\n"
    with pytest.raises(AbcParseError) as alone:
        tokenizer(bad)
    assert "of the batch" not in str(alone.value)
    with pytest.raises(AbcParseError, match=r"item 3 of the batch \(index 2\)") as info:
        tokenizer([KESH, KESH, bad])
    assert (info.value.tune, info.value.line, info.value.column) == (
        alone.value.tune,
        alone.value.line,
        alone.value.column,
    )
    assert str(info.value).startswith(str(alone.value))
    # an empty cell of a dataset said "tune has no notes", as if it were a tune without music
    empty = r"the text is an empty string, not an ABC tune \(item 3 of the batch \(index 2\)\)$"
    with pytest.raises(AbcParseError, match=empty):
        tokenizer([KESH, KESH, ""])
    with pytest.raises(AbcParseError, match=r"the text is only whitespace \(1 character\), not"):
        tokenizer("\n")
    # bar lines around chord symbols were encoded as 3 rows (<start>, |], <end>)
    with pytest.raises(AbcParseError, match="no notes: bar lines but no note or rest"):
        tokenizer.encode_tune('X:1\nT:Chords only\nM:4/4\nK:G\n"G" "D" | "Em" "C" |]\n')


def test_a_parse_error_in_a_batch_names_the_tune_by_x_and_title(tokenizer):
    """A parse error in a batch said "Broken: ... (item 1 of the batch (index 0))": in a
    ``ds.map(batched=True)`` that counts within the map's batch; it names the tune by its X:
    number and title too, as the reader's warnings do."""
    from tokenization.abc_parser import AbcParseError

    bad = "X:9\nT:Broken\nK:G\nGAB|\n(3>A|\n"
    with pytest.raises(AbcParseError) as info:
        tokenizer([KESH, bad])
    assert str(info.value).endswith(" (tune X:9 'Broken' (item 2 of the batch (index 1)))")
    untitled = "X:12\nK:G\n(3>A|\n"  # the reader names it by its X: alone: not said twice
    with pytest.raises(AbcParseError, match=r": [^:]*\(tune X:12 \(item 1 of the batch") as info:
        tokenizer([untitled])
    assert info.value.tune == "X:12"


@pytest.fixture(name="fresh")
def fresh_tokenizer(tokenizer):
    """A tokenizer that has said no warning yet (each remembers those it said)."""
    return AbcTokenizer(vocab=tokenizer.abc_vocab)


TWO_PARTS = "X:1\nT:Two parts\nM:6/8\nL:1/8\nK:G\n|:GAG GAB:|\n\n|:edd gdd:|"


def test_what_the_reader_leaves_out_is_logged_naming_the_item(fresh, caplog):
    import logging

    from tokenization.dataset import tokenize_batch

    name = "tokenization.tokenization_abc"
    with caplog.at_level(logging.WARNING, logger=name):
        fresh([KESH, TWO_PARTS])
    (record,) = [r for r in caplog.records if r.name == name]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "tune X:1 'Two parts' (item 2 of the batch (index 1))" in message
    assert "after the blank line 7 not read" in message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=name):
        AbcTokenizer(vocab=fresh.abc_vocab)(TWO_PARTS)  # one that has not said it yet
        assert "the tune X:1 'Two parts' was" in caplog.records[-1].getMessage()
        caplog.clear()
        AbcTokenizer(vocab=fresh.abc_vocab)(TWO_PARTS, verbose=False)  # silenced on request
        tokenize_batch({"abc": [TWO_PARTS] * 3}, fresh)  # the dataset path counts instead
        fresh(KESH)  # nothing to say
    assert not [r for r in caplog.records if r.name == name]


def test_a_warning_in_a_later_map_batch_names_the_tune_by_x_and_title(fresh, caplog):
    """In ``ds.map(batched=True)`` the batch position counts within the map's batch: the warning
    said "item 1 of the batch (index 0) 'Two parts'" for the dataset's row 3, among settings of
    one title; it now names the tune by its X: number too, which its text carries."""
    import logging

    from datasets import Dataset

    name = "tokenization.tokenization_abc"
    settings = [TWO_PARTS.replace("\n\n", "\n") for _ in range(4)]
    settings[2] = TWO_PARTS  # its second part lost (after a blank line)
    rows = Dataset.from_dict({"abc": [t.replace("X:1", f"X:{x}") for x, t in enumerate(settings)]})
    with caplog.at_level(logging.WARNING, logger=name):
        rows.map(lambda b: dict(fresh(b["abc"], return_tensors=None)), batched=True, batch_size=2)
    (said,) = [r.getMessage() for r in caplog.records if r.name == name]
    assert "tune X:2 'Two parts' (item 1 of the batch (index 0))" in said


def test_the_reader_warnings_of_a_big_batch_are_capped(fresh, caplog):
    # a batch of 12 tunes each losing a part logged 12 warnings (1,000 tunes: 1,000 lines)
    import logging

    name = "tokenization.tokenization_abc"
    # each a part lost at another line (one said for an earlier tune is not said again)
    tunes = [TWO_PARTS.replace("K:G\n", "K:G\n" + "%\n" * n) for n in range(12)]
    with caplog.at_level(logging.WARNING, logger=name):
        fresh(tunes)
    said = [r.getMessage() for r in caplog.records if r.name == name]
    assert len(said) == 6, said
    assert all("was not read exactly as written" in line for line in said[:5])
    assert "item 5 of the batch (index 4)" in said[4]
    assert said[5].startswith("... and 7 more tunes not read exactly as written (not shown); 12")
    assert "after the blank line N not read" in said[5]


def test_train_refuses_one_string_and_a_corpus_it_cannot_read(caplog):
    import logging

    with pytest.raises(TypeError, match="one string a tune .*not one str"):
        AbcTokenizer.train(KESH)
    with pytest.raises(TypeError, match="not one bytes"):
        AbcTokenizer.train(KESH.encode())
    with pytest.raises(ValueError, match=r"none of the 2 tunes .*tune 1 \(index 0\): .*no notes"):
        AbcTokenizer.train(["X:1\nT:Empty\nK:G\n", "hello world"])
    with pytest.raises(ValueError, match=r"none of the 1 tune it got \(the first, tune 1 "):
        AbcTokenizer.train(["hello world"])  # not "none of the 1 tunes"
    with pytest.raises(ValueError, match="no tunes"):
        AbcTokenizer.train([])
    with caplog.at_level(logging.WARNING, logger="tokenization.tokenization_abc"):
        tok = AbcTokenizer.train([KESH, "hello world", DORIAN_REEL])
    assert tok == AbcTokenizer.train([KESH, DORIAN_REEL])
    (message,) = [r.getMessage() for r in caplog.records]
    assert "1 of 3 tunes could not be read" in message
    assert "tune 2 (index 1): " in message and "'hello' reads as text" in message


def test_train_refuses_a_datasets_batch_or_dataset_and_says_to_give_the_abc_column():
    """``train(ds[:300])`` (a dict of columns) built a vocabulary from the column names."""
    from datasets import Dataset

    columns = {"tune_id": [1, 2, 3], "title": ["a", "b", "c"], "abc": TUNES}
    for table, what in ((columns, "column names"), (Dataset.from_dict(columns), "rows")):
        with pytest.raises(TypeError, match=rf"not a \w+ with columns .*{what}.*ds\['abc'\]"):
            AbcTokenizer.train(table)
    assert AbcTokenizer.train(Dataset.from_dict(columns)["abc"]) == AbcTokenizer.train(TUNES)


def test_train_names_an_item_that_is_not_a_string():
    """A None (a missing cell) in the corpus was "an ABC tune is a string of text, got
    NoneType", naming no tune."""
    corpus = TUNES * 4
    corpus[10] = None
    with pytest.raises(TypeError, match=r"tune 11 \(index 10\) is a NoneType: a missing cell"):
        AbcTokenizer.train(corpus)
    with pytest.raises(TypeError, match=r"tune 2 \(index 1\) is a bytes: decode it first"):
        AbcTokenizer.train([KESH, KESH.encode()])


def test_train_refuses_keywords_that_neither_it_nor_transformers_takes(tmp_path):
    """``train(c, min_frequency=50, vocab_size=30, foo="bar")`` ignored them and saved them in
    tokenizer_config.json, as if the vocabulary had been pruned."""
    import json

    with pytest.raises(
        TypeError,
        match=r"unexpected keyword arguments 'min_frequency', 'vocab_size', 'foo': .*every value",
    ):
        AbcTokenizer.train(TUNES, min_frequency=50, vocab_size=30, foo="bar")
    with pytest.raises(TypeError, match=r"argument 'vocab_file': .*AbcTokenizer\(vocab_file="):
        AbcTokenizer.train(TUNES, vocab_file="abc_vocab.json")
    # PreTrainedTokenizer's own keywords still go to the constructor, and are saved
    tok = AbcTokenizer.train(TUNES, model_max_length=64, pad_token="<pad>")
    assert tok.model_max_length == 64
    tok.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert saved["model_max_length"] == 64 and "min_frequency" not in saved


def test_a_call_with_arguments_of_the_wrong_type_names_them(tokenizer):
    """``max_length=5.5`` or ``"5"`` failed in slicing or comparing, ``tok(None)`` with "'NoneType'
    object is not iterable", and ``tok(b"X:1...")`` said "item 1 of the batch is a int"."""
    for bad in (5.5, "5", True):
        with pytest.raises(TypeError, match=rf"max_length is .*an int; got {type(bad).__name__}"):
            tokenizer(KESH, max_length=bad)
    one = {k: v[0] for k, v in tokenizer(KESH).items()}
    with pytest.raises(TypeError, match="max_length is a number of rows"):
        tokenizer.pad([one], padding="max_length", max_length=200.0)
    assert tokenizer(KESH, max_length=np.int64(5))["input_ids"].shape[1] == 5
    with pytest.raises(TypeError, match=r"a string \(one tune\) or a list of strings .*NoneType"):
        tokenizer(None)
    with pytest.raises(TypeError, match=r"got bytes: decode it first"):
        tokenizer(KESH.encode())
    with pytest.raises(TypeError, match=r"not a dict with columns \['title', 'abc'\]"):
        tokenizer({"title": ["The Kesh"], "abc": [KESH]})


def test_decode_batch_decode_and_pad_refuse_what_is_not_ids_by_its_type(tokenizer):
    """``decode(None)``, ``decode("X:1...")`` and ``decode(5)`` said "got ()" (a ValueError about
    a shape), ``batch_decode(None)`` "'NoneType' object is not iterable", ``pad(5)`` "argument of
    type 'int' is not iterable" and ``pad(["X:1..."])`` an AttributeError: a TypeError naming
    the type, as ``tokenizer(None)`` gives."""
    for bad, hint in ((None, "NoneType"), (KESH, "str: ABC text"), (b"X:1", "bytes"), (5, "int")):
        with pytest.raises(TypeError, match=rf"^AbcTokenizer.decode takes .*; got {hint}"):
            tokenizer.decode(bad)
        with pytest.raises(TypeError, match=rf"^AbcTokenizer.batch_decode takes .*; got {hint}"):
            tokenizer.batch_decode(bad)
    with pytest.raises(TypeError, match=r"got BatchEncoding: give its \['input_ids'\]"):
        tokenizer.decode(tokenizer(KESH))
    for bad, named in (
        (5, "got int"),
        (None, "got NoneType"),
        (KESH, "got str"),
        ([KESH], "a str"),
    ):
        with pytest.raises(TypeError, match=rf"^AbcTokenizer.pad takes encoded tunes.*{named}"):
            tokenizer.pad(bad)
    assert tokenizer.pad({"input_ids": [[5, 6], [7]]})["input_ids"] == [[5, 6], [7, 0]]


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda data: data.pop("features"), r"no 'features' object"),
        (lambda data: data["features"].pop("octave"), r"lacks features \['octave'\]"),
        (lambda data: data["features"].update(main=None), r"'main' must be a list of strings"),
        (lambda data: data["features"]["dur"].append("1"), r"'dur' holds '1' twice"),
    ],
    ids=["no-features", "a-feature-removed", "main-null", "a-value-twice"],
)
def test_a_damaged_vocabulary_file_is_named_with_what_is_wrong(tokenizer, tmp_path, damage, match):
    """A file without "features" was a bare KeyError, one without a feature a ValueError
    without the path, ``"main": null`` a TypeError."""
    import json

    tokenizer.save_pretrained(tmp_path)
    path = tmp_path / "abc_vocab.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    damage(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"abc_vocab.json: not a vocabulary JSON file .*{match}"):
        AbcTokenizer.from_pretrained(tmp_path)


def test_a_file_header_warning_of_a_tunebook_is_said_once_a_call(fresh, caplog):
    """The loader writes a file header's ``I:MIDI transpose 2`` into each tune of the book (the
    ``abc`` column reads alone): ``tok(corpus["abc"])`` said it once per tune (5 lines, then a
    count), where the loader says it once for the file."""
    import logging

    from modeling_irish.abc_sources import text_tunes

    book = "I:MIDI transpose 2\n\n" + "\n".join(f"X:{n}\nT:T{n}\nK:G\nGAB|\n" for n in range(8))
    texts = [raw.text for raw in text_tunes(book, "book.abc")]
    name = "tokenization.tokenization_abc"
    with caplog.at_level(logging.WARNING, logger=name):
        own = TWO_PARTS.replace("X:1\n", "X:1\nI:MIDI transpose 2\n")  # and its own warning
        fresh([*texts[:3], own, *texts[3:]])
    said = [r.getMessage() for r in caplog.records if r.name == name]
    assert [line.count("I:MIDI transpose 2 not read (line 2)") for line in said] == [1, 0, 0]
    assert "tune X:0 'T0' (item 1 of the batch (index 0))" in said[0]
    # a tune with a warning of its own says it alone, and counts the one said above
    assert (
        "'Two parts' (item 4 of the batch (index 3))" in said[1]
        and "blank line 8 not read" in said[1]
    )
    assert "transpose" not in said[1]
    assert said[1].endswith("; and 1 warning said above (verbose=False silences this)")
    assert said[2].startswith("... and 7 more tunes whose warnings were all said above (not ")
    assert "7 in all, by reason: {'I:MIDI transpose N not read (line N)" in said[2]


def test_a_warning_said_by_an_earlier_call_is_not_said_again_by_the_tokenizer(fresh, caplog):
    """``ds.map(batched=True)`` calls the tokenizer once a batch: a tunebook's header field,
    written into each of its tunes, was said in every batch (5 batches: 10 lines). Each
    tokenizer says a warning once, as `transformers`' ``warning_once``, and once that it does;
    DEBUG still names every tune, and the map's fingerprint does not change with it."""
    import logging

    from datasets import Dataset
    from datasets.fingerprint import Hasher

    from modeling_irish.abc_sources import text_tunes

    book = "I:MIDI transpose 2\n\n" + "\n".join(f"X:{n}\nT:T{n}\nK:G\nGAB|\n" for n in range(10))
    texts = [raw.text for raw in text_tunes(book, "book.abc")]
    texts[7] = TWO_PARTS.replace("X:1\n", "X:7\nI:MIDI transpose 2\n")  # and its own warning
    rows = Dataset.from_dict({"abc": texts})
    fingerprint = Hasher.hash(fresh)
    name = "tokenization.tokenization_abc"
    with caplog.at_level(logging.DEBUG, logger=name):
        rows.map(lambda b: dict(fresh(b["abc"], return_tensors=None)), batched=True, batch_size=2)
    records = [r for r in caplog.records if r.name == name]
    said = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    assert [line.count("I:MIDI transpose 2 not read") for line in said] == [1, 0, 0, 0], said
    assert "tune X:0 'T0'" in said[0]
    assert said[1].startswith("... and 1 more tune whose warnings were all said above")
    assert said[2].startswith("AbcTokenizer: 2 tunes whose warnings were all said by an earlier")
    assert "tune X:7 'Two parts'" in said[3] and "; and 1 warning said above" in said[3]
    quiet = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert any("tune X:9 'T9'" in line for line in quiet)
    assert Hasher.hash(fresh) == fingerprint  # what it said is left out: the map's cache holds
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=name):
        AbcTokenizer(vocab=fresh.abc_vocab)(texts[:2])  # another tokenizer says it again
    assert [r.getMessage().count("transpose 2 not read") for r in caplog.records] == [1, 0]
