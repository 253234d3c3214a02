"""`irish-tune demo`'s Generate tab with several tunes at once (`generate_views`, the Tunes
control), called without a server."""

from __future__ import annotations

import os
import re
import threading

import pytest
from helpers import (  # noqa: F401 (fixtures)
    app_function,
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish.demo_app import build_demo, generate_views
from modeling_irish.demo_inputs import TUNES

gradio = pytest.importorskip("gradio")


@pytest.fixture
def midi_only(monkeypatch):
    """The demo renders MIDI only (no SVG, no WAV): several tunes, rendered quickly."""
    import modeling_irish.demo_app as demo_app

    monkeypatch.setattr(demo_app, "_FORMATS", ("midi",))


def test_generate_views_samples_several_tunes_in_one_batch_each_rendered(
    generator, tmp_path, midi_only
):
    views = generate_views(generator, "jig", "G", 4, 1.0, 5, out_dir=str(tmp_path), num_tunes=3)
    batch = generator.generate(3, rhythm="jig", key="G", num_bars=4, seed=5)
    assert [view.abc for view in views] == [tune.engraved_abc or tune.abc for tune in batch]
    assert [view.abc.splitlines()[0] for view in views] == ["X:1", "X:2", "X:3"]
    midis = [view.midi for view in views]
    assert all(m and os.path.isfile(m) for m in midis) and len(set(midis)) == 3
    # one folder for the request (`prune_renderings` counts requests), each tune's files in it
    assert len({os.path.dirname(m) for m in midis}) == 1 and len(os.listdir(tmp_path)) == 1


def test_the_app_shows_as_many_tunes_as_asked_each_with_its_abc_and_midi(
    model_dir, tmp_path, midi_only
):
    """There was no Tunes control: five tunes took five clicks."""
    demo = build_demo(model_dir, out_dir=str(tmp_path))
    generate = app_function(demo, "generate")
    out = generate("jig", "D", 4, 1.0, 0, "", 3)
    first, rest = out[:4], out[5:]
    places = [rest[i : i + 5] for i in range(0, len(rest), 5)]
    assert len(places) == TUNES[1] - 1
    assert first[0].startswith("X:1") and os.path.isfile(first[3])
    for number, (place, abc, _, _, midi) in enumerate(places, 2):
        assert place["visible"] == (number <= 3), number
        if number <= 3:
            assert abc.startswith(f"X:{number}\n") and os.path.isfile(midi), number
        else:
            assert (abc, midi) == ("", None), number
    # one tune again: the other places hidden and emptied; six values (no Tunes) are one tune
    for values in [("jig", "D", 4, 1.0, 0, "", 1), ("jig", "D", 4, 1.0, 0, "")]:
        out = generate(*values)
        assert out[0].startswith("X:1") and not any(p["visible"] for p in out[5::5])


def test_the_app_says_a_greedy_batch_gives_the_same_tunes(model_dir, tmp_path, midi_only):
    generate = app_function(build_demo(model_dir, out_dir=str(tmp_path)), "generate")
    notes = generate("jig", "D", 4, 0.0, 0, "", 2)[4]
    assert "the 2 tunes will be the same" in notes, notes


@pytest.mark.parametrize("count", [0, 21, 2.5, None])
def test_the_app_refuses_a_number_of_tunes_out_of_range_in_words(model_dir, tmp_path, count):
    generate = app_function(build_demo(model_dir, out_dir=str(tmp_path)), "generate")
    with pytest.raises(gradio.Error) as refused:
        generate("jig", "D", 4, 1.0, 0, "", count)
    assert re.match(r"^Tunes must be a whole number from 1 to 20", refused.value.message)
    assert not refused.value.print_exception


@pytest.mark.parametrize("api_name", ["generate", "name"])
def test_the_app_refuses_an_oversized_paste_in_words(model_dir, tmp_path, api_name):
    """A pasted text of any length was read whole (a megabyte kept a served demo busy)."""
    from modeling_irish.demo_inputs import TEXT_MOST

    index = tmp_path / "index"
    if api_name == "name":  # an index of the model's own tunes, no model
        from helpers import GENERATION_TRAIN

        from modeling_irish.name_that_tune import TuneIndex
        from tokenization.tokenization_abc import AbcTokenizer

        corpus = tmp_path / "tunes.abc"
        corpus.write_text("\n".join(GENERATION_TRAIN), encoding="utf-8")
        tokenizer = AbcTokenizer.from_pretrained(model_dir)
        TuneIndex.build(None, tokenizer, str(corpus)).save(str(index))
    demo = build_demo(model_dir, str(index) if api_name == "name" else None, str(tmp_path))
    bars = "FAAB AFED|" * (TEXT_MOST // 10 + 1)
    values = (bars, 3) if api_name == "name" else ("reel", "D", 4, 1.0, 0, bars, 1)
    with pytest.raises(gradio.Error) as refused:
        app_function(demo, api_name)(*values)
    label = "Snippet" if api_name == "name" else "Prompt"
    assert refused.value.message == (
        f"{label} is {len(bars):,} characters long, more than the demo reads ({TEXT_MOST:,}): "
        "paste one tune, or its first bars"
    )


def test_the_app_shows_its_progress_sampling_then_rendering_each_tune(
    model_dir, tmp_path, midi_only
):
    """There was no progress on the page: 20 tunes with WAVs took half a minute in silence.
    gradio gives its tracker to a parameter whose default is a `gradio.Progress`."""
    from gradio.helpers import special_args

    demo = build_demo(model_dir, out_dir=str(tmp_path))
    generate = app_function(demo, "generate")
    assert special_args(generate)[1] == 8  # after the page's eight values
    assert all(fn.tracks_progress for fn in demo.fns.values() if fn.api_name == "generate")
    calls = []

    def progress(done, desc=None, **kwargs):
        calls.append((done, desc))

    out = generate("jig", "D", 4, 1.0, 0, "", 3, 4, progress)
    assert out[0].startswith("X:1")
    assert calls == [
        ((0, 4), "sampling 3 tunes"),
        ((1, 4), "rendering tune 1 of 3"),
        ((2, 4), "rendering tune 2 of 3"),
        ((3, 4), "rendering tune 3 of 3"),
    ]


def test_a_request_cut_during_rendering_renders_no_further_tune_and_leaves_no_file(
    generator, tmp_path, monkeypatch, midi_only
):
    """Stop during the rendering (each tune's SVG, MIDI and WAV: seconds for many tunes) was
    not heard: only the sampling checked ``should_stop``, and every tune was rendered to the
    end. Now the rendering stops before the next tune, and the request's folder goes."""
    import modeling_irish.render as render
    from modeling_irish.render import RenderingStopped

    cut, rendered = threading.Event(), []
    real = render.render_abc

    def spy(abc, stem, formats, **kwargs):
        made = real(abc, stem, formats, **kwargs)
        rendered.append(stem)
        cut.set()  # the page's Stop, heard once the first tune is rendered
        return made

    monkeypatch.setattr(render, "render_abc", spy)
    with pytest.raises(RenderingStopped, match="tune-2") as stopped:
        generate_views(generator, "jig", "G", 4, 1.0, 5, out_dir=str(tmp_path), num_tunes=3,
                       should_stop=cut.is_set)  # fmt: skip
    # between tunes: not "before its first format", which read as if tune 2 had begun
    assert "stopped, as asked, before tune 2 (" in str(stopped.value), stopped.value
    assert stopped.value.before == "tune 2"
    assert len(rendered) == 1, rendered
    assert os.listdir(tmp_path) == []  # not even the first tune's files, never shown
