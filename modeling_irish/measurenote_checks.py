"""The checks of the MeasureNote models' arguments (rows, measure numbers, labels, the
``save_pretrained`` call) and the error messages that say what to give."""

import contextlib
import inspect
import os
from collections.abc import Sequence
from typing import Any, Optional, Union

import torch

from .configuration_measurenote import MeasureNoteConfig
from .hub_repo_ids import upload_repo_id

# What a failed upload says has one source, shared with the tokenizer's upload (HubUploadError
# re-exported: its home until it moved). Saved as remote code, this file runs without the
# package too (an import in a try, which transformers' check of a folder's imports skips):
# there an upload fails with the Hub client's own error.
try:
    from tokenization.hub_errors import HubUploadError, upload_errors
except ImportError:  # remote code without the package
    upload_errors = None  # type: ignore[assignment]

__all__ = [
    "HUB_UPLOAD_ARGUMENTS",
    "HubUploadError",
    "check_rows",
    "folder_timestamps",
    "model_upload_errors",
    "saved_file_additions",
    "split_upload_arguments",
    "stale_file_deletions",
    "upload_saved_folder",
    "ID_DTYPES",
    "check_labels",
    "check_measure_numbers",
    "first_outside",
    "refuse_attentions",
]


def refuse_attentions(output_attentions: Optional[bool], model: str) -> None:
    """`output_attentions=True` asks for what a GRU model does not have: refuse it by name
    (transformers' callers pass the flag; False and None are accepted). Give it the flag as
    transformers reads it: the argument, else `config.output_attentions`."""
    if output_attentions:
        raise ValueError(
            f"{model} returns no attention weights (output_attentions=True, by argument or "
            "config): MeasureNote is "
            "a GRU model; MeasureNote's output_hidden_states=True gives its hidden states"
        )


#: The index dtypes torch's embedding and gather take.
ID_DTYPES = (torch.long, torch.int)


def check_rows(input_ids: Any, feature_names: list[str], attention_mask: Any) -> None:
    """Raise when `input_ids` is not a `(batch, seq, n_features)` tensor of integer ids, or when
    `attention_mask` is not a `(batch, seq)` tensor (a `(1, seq)` mask was broadcast to every
    tune, an all-ones mask of any shape ignored, and a list or numpy mask failed on a missing
    attribute). Type, shape and dtype comparisons only: nothing is read."""
    n = len(feature_names)
    if not isinstance(input_ids, torch.Tensor):
        raise TypeError(f"input_ids must be a tensor of ids, got {type(input_ids).__name__}")
    if input_ids.dim() != 3:
        shape = tuple(input_ids.shape)
        hint = "a batch of 1 is input_ids[None]"
        if input_ids.dim() != 2 or shape[-1] != n:
            hint = "the tokenizer's input_ids hold every feature of a row, not one id per row"
        raise ValueError(
            f"input_ids must be (batch, seq, {n}): {n} feature ids per row "
            f"({', '.join(feature_names[:3])}, ...); got shape {shape} ({hint})"
        )
    if input_ids.dtype not in ID_DTYPES:
        raise TypeError(f"input_ids must hold integer ids (torch.long), got {input_ids.dtype}")
    if attention_mask is not None and not isinstance(attention_mask, torch.Tensor):
        raise TypeError(
            f"attention_mask must be a (batch, seq) tensor, 1 for rows and 0 for padding (the "
            f"tokenizer's 'attention_mask' with return_tensors='pt'), got "
            f"{type(attention_mask).__name__}"
        )
    if attention_mask is not None and attention_mask.shape != input_ids.shape[:2]:
        raise ValueError(
            f"attention_mask must be (batch, seq), one flag per row of input_ids "
            f"{tuple(input_ids.shape)}: expected {tuple(input_ids.shape[:2])}, got "
            f"{tuple(attention_mask.shape)}"
        )


def check_measure_numbers(measure_numbers: Any, input_ids: torch.Tensor) -> None:
    """`measure_numbers` is an integer `(batch, seq)` tensor, one number per row of `input_ids`."""
    if not isinstance(measure_numbers, torch.Tensor):
        raise TypeError(
            f"measure_numbers must be a (batch, seq) tensor of measure numbers, one per row (the "
            f"tokenizer's 'measure_numbers'), got {type(measure_numbers).__name__}"
        )
    if measure_numbers.shape != input_ids.shape[:2]:
        raise ValueError(
            f"measure_numbers must be (batch, seq), one number per row of input_ids "
            f"{tuple(input_ids.shape)}: expected {tuple(input_ids.shape[:2])}, got "
            f"{tuple(measure_numbers.shape)}"
        )
    if measure_numbers.dtype not in ID_DTYPES:
        raise TypeError(
            f"measure_numbers must hold integers (torch.long), got {measure_numbers.dtype}"
        )


#: The arguments of `save_pretrained` that are the upload's (`upload_saved_folder`'s), not
#: the save's.
HUB_UPLOAD_ARGUMENTS = (
    "commit_message",
    "commit_description",
    "private",
    "token",
    "revision",
    "create_pr",
    "tags",
)


def _as_keywords(method: Any, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` with the positional `args` that follow ``save_directory`` named by `method`'s
    signature (so that a positional ``push_to_hub`` is seen as one).

    >>> def save(save_directory, is_main_process=True, push_to_hub=False, **kw): ...
    >>> _as_keywords(save, (True, True), {"token": "t"})
    {'token': 't', 'is_main_process': True, 'push_to_hub': True}
    """
    names = [
        p.name
        for p in inspect.signature(method).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
    ][1:]  # after save_directory
    if len(args) > len(names):
        raise TypeError(f"save_pretrained takes at most {len(names) + 1} positional arguments")
    named = dict(zip(names, args))
    clash = named.keys() & kwargs.keys()
    if clash:
        raise TypeError(f"save_pretrained got multiple values for {sorted(clash)}")
    return {**kwargs, **named}


def split_upload_arguments(
    method: Any, save_directory: Union[str, os.PathLike], args: tuple, kwargs: dict[str, Any]
) -> tuple[dict[str, Any], Optional[dict[str, Any]]]:
    """The arguments of a ``save_pretrained(save_directory, *args, **kwargs)`` call (`method`'s
    signature names the positional ones) split into the save's keyword arguments and, with
    ``push_to_hub=True``, the `upload_saved_folder` ones (None without): transformers'
    `save_pretrained` creates the Hub repository before it writes anything, so a failed upload
    (no network) left the folder empty; saving first, then uploading, keeps the folder.

    >>> def save(save_directory, is_main_process=True, push_to_hub=False, **kw): ...
    >>> split_upload_arguments(save, "runs/m", (True, True), {"commit_message": "m"})
    ({'is_main_process': True}, {'repo_id': 'm', 'commit_message': 'm'})
    """
    kwargs = _as_keywords(method, args, kwargs)
    push = kwargs.pop("push_to_hub", False)
    repo_id = kwargs.pop("repo_id", None)
    # checked before the save: a repo_id (or folder name) that is no Hub id failed the upload
    # only once the folder was saved, blamed on offline mode or the token (`upload_repo_id`)
    upload = {"repo_id": upload_repo_id(save_directory, repo_id) if push else repo_id}
    upload.update((name, kwargs.pop(name)) for name in HUB_UPLOAD_ARGUMENTS if name in kwargs)
    return kwargs, (upload if push else None)


def folder_timestamps(model: Any, folder: Union[str, os.PathLike]) -> dict[str, float]:
    """The modification time of each entry of `folder` (none for a folder not yet made), taken
    before a save so that `upload_saved_folder` uploads what the save wrote."""
    return model._get_files_timestamps(folder) if os.path.isdir(folder) else {}


def model_upload_errors(
    repo_id: str,
    token: Optional[Union[bool, str]],
    saved_in: Optional[Union[str, os.PathLike]] = None,
) -> contextlib.AbstractContextManager[None]:
    """Where a model's upload to ``repo_id`` fails (offline, no token, no network, a refusal of
    the Hub), a `HubUploadError` that says why in one line (`tokenization.hub_errors.
    upload_errors`, as the tokenizer's; ``saved_in``: the folder ``save_pretrained`` saved, or
    none for ``push_to_hub``'s temporary one). The model's remote code run without the package
    lets the Hub client's error through."""
    if upload_errors is None:
        return contextlib.nullcontext()
    return upload_errors(repo_id, token, "model", saved_in=saved_in)


def upload_saved_folder(
    model: Any,
    save_directory: Union[str, os.PathLike],
    files_timestamps: dict[str, float],
    repo_id: str,
    commit_message: Optional[str] = None,
    commit_description: Optional[str] = None,
    private: Optional[bool] = None,
    token: Optional[Union[bool, str]] = None,
    revision: Optional[str] = None,
    create_pr: bool = False,
    tags: Optional[list[str]] = None,
    removed: Sequence[str] = (),
) -> Any:
    """Upload the files that `model.save_pretrained` just wrote in `save_directory` (those new
    or changed since `files_timestamps`, `saved_file_additions`) to the Hub repository
    `repo_id`, as transformers' `save_pretrained(push_to_hub=True)` does once it has saved: the
    shards, variant names and index of that save, not a second save with defaults (which
    `push_to_hub` makes in a temporary folder). A folder without a README.md gets the Hub's (or
    a new) model card with `tags`; one that has a README.md (a training run's card) keeps it.
    The files of `removed` (paths in the folder, ``/``-separated), which the save deleted from
    it as stale (a MiniLM model's ``LICENSE`` that a char-GRU model saved over it no longer
    holds), are deleted from the repository, where it holds them (`stale_file_deletions`), in
    the same commit as the upload (or pull request, with `create_pr`): a failed commit changes
    nothing there, never a new model beside an old model's files. Returns the commit.

    A failed upload (offline, no token, no network, a refusal of the Hub) is a `HubUploadError`
    that says so in one line, as ``train.py --push_to_hub`` does, and that the folder is saved,
    rather than the Hub client's error (`tokenization.hub_errors.upload_errors`, as the
    tokenizer's; the model's remote code run without the package raises the client's error)."""
    with model_upload_errors(repo_id, token, saved_in=save_directory):
        return _upload(
            model, save_directory, files_timestamps, repo_id, commit_message,
            commit_description, private, token, revision, create_pr, tags, removed,
        )  # fmt: skip


def _upload(
    model: Any,
    save_directory: Union[str, os.PathLike],
    files_timestamps: dict[str, float],
    repo_id: str,
    commit_message: Optional[str],
    commit_description: Optional[str],
    private: Optional[bool],
    token: Optional[Union[bool, str]],
    revision: Optional[str],
    create_pr: bool,
    tags: Optional[list[str]],
    removed: Sequence[str],
) -> Any:
    """`upload_saved_folder`, its errors as they come."""
    # hub.hf_api (transformers>=5.10.1): the Hub client that transformers' own push_to_hub
    # uses, so one client (and its library tag) makes the upload
    from transformers.utils import hub

    api = hub.hf_api()
    repo_id = api.create_repo(repo_id, private=private, token=token, exist_ok=True).repo_id
    readme = os.path.join(save_directory, "README.md")
    if not os.path.exists(readme):
        tags = [tags] if isinstance(tags, str) else list(tags or [])
        tags = list(dict.fromkeys([*(model.model_tags or []), *tags]))
        # transformers hints token as str | None, but only forwards it to hf_hub_download,
        # which takes True too (the saved token, as for create_repo above)
        card = hub.create_and_tag_model_card(repo_id, tags or None, token=token)  # type: ignore[arg-type]
        card.save(readme)
    additions = saved_file_additions(save_directory, files_timestamps)
    _make_branch(api, repo_id, revision, token, create_pr)
    uploaded = [op.path_in_repo for op in additions]
    deletions = stale_file_deletions(
        api, repo_id, removed, uploaded, token=token, revision=revision
    )
    name = type(model).__name__  # transformers' default message for a model
    return api.create_commit(
        repo_id=repo_id,
        operations=[*deletions, *additions],
        commit_message=commit_message or ("Upload model" if "Model" in name else f"Upload {name}"),
        commit_description=commit_description,
        token=token,
        create_pr=create_pr,
        revision=revision,
    )


def saved_file_additions(
    save_directory: Union[str, os.PathLike], files_timestamps: dict[str, float]
) -> list[Any]:
    """A `CommitOperationAdd` for each file of `save_directory` that a save wrote: each entry new
    or changed since `files_timestamps` (`folder_timestamps`), a folder's files (at any depth)
    with it, as transformers' ``_upload_modified_files`` picks them; sorted paths."""
    from huggingface_hub import CommitOperationAdd

    paths = []
    for name in sorted(os.listdir(save_directory)):
        path = os.path.join(save_directory, name)
        if name in files_timestamps and os.path.getmtime(path) <= files_timestamps[name]:
            continue
        if os.path.isfile(path):
            paths.append(name)
        for root, _, files in os.walk(path) if os.path.isdir(path) else ():
            inside = os.path.relpath(root, save_directory).replace(os.sep, "/")
            paths.extend(f"{inside}/{child}" for child in sorted(files))
    return [
        CommitOperationAdd(
            path_or_fileobj=os.path.join(save_directory, *path.split("/")), path_in_repo=path
        )
        for path in sorted(paths)
    ]


def _make_branch(
    api: Any, repo_id: str, revision: Optional[str], token: Any, create_pr: bool
) -> None:
    """Create the branch `revision` (not a pull request's ref) where the repository lacks it, as
    transformers' upload does; one that cannot be made for a pull request on a repository the
    token may not write (403) is taken to exist (else the commit says it does not)."""
    from huggingface_hub.errors import HfHubHTTPError

    if revision is None or revision.startswith("refs/pr"):
        return
    try:
        api.create_branch(repo_id=repo_id, branch=revision, token=token, exist_ok=True)
    except HfHubHTTPError as err:
        if not (create_pr and getattr(err.response, "status_code", None) == 403):
            raise


def stale_file_deletions(
    api: Any,
    repo_id: str,
    removed: Sequence[str],
    uploaded: Sequence[str] = (),
    token: Optional[Union[bool, str]] = None,
    revision: Optional[str] = None,
) -> list[Any]:
    """A `CommitOperationDelete` for each of the files `removed` (paths in the repository) that
    the Hub repository `repo_id` holds (at `revision`, asked of the client `api`) and the commit
    does not upload again (`uploaded`): each by name, never a pattern, so no other file of the
    repository goes. ``[]`` without asking the Hub where `removed` is empty. Put in the commit
    that uploads, the deletions and the upload succeed or fail together."""
    from huggingface_hub import CommitOperationDelete

    again = set(uploaded)
    wanted = [path for path in dict.fromkeys(removed) if path not in again]
    if not wanted:
        return []
    held = set(api.list_repo_files(repo_id, revision=revision, token=token))
    return [CommitOperationDelete(path_in_repo=path) for path in wanted if path in held]


def check_labels(labels: Any, input_ids: torch.Tensor, config: MeasureNoteConfig) -> None:
    """Labels are a `(batch, seq, 2)` tensor, the rows' (main, dur) ids, as the tokenizer returns
    them: integers in each head's vocabulary, or -100."""
    if not isinstance(labels, torch.Tensor):
        raise TypeError(
            f"labels must be a (batch, seq, 2) tensor of the rows' main and dur ids (the "
            f"tokenizer's 'labels' with return_tensors='pt'), got {type(labels).__name__}"
        )
    if labels.dim() != 3 or labels.shape[-1] != 2 or labels.shape[:2] != input_ids.shape[:2]:
        raise ValueError(
            f"labels must be (batch, seq, 2): the main and dur ids of each row of input_ids "
            f"{tuple(input_ids.shape)}, -100 where ignored (the tokenizer's 'labels'); got "
            f"{tuple(labels.shape)}{_copied_input_ids(labels, input_ids)}"
        )
    if labels.dtype not in ID_DTYPES:
        raise TypeError(f"labels must hold integer ids (torch.long), got {labels.dtype}")
    if not labels.numel():
        return
    # One min and one max per feature (a single sync): -100 counts as 0, any other negative as bad
    kept = labels.masked_fill(labels == -100, 0).flatten(0, 1)  # (batch * seq, 2)
    low, high = torch.stack([kept.amin(0), kept.amax(0)]).tolist()
    sizes = (config.main_vocab_size, config.dur_vocab_size)
    if min(low) < 0 or any(h >= size for h, size in zip(high, sizes)):
        raise ValueError(_labels_out_of_range(labels, sizes))


def _copied_input_ids(labels: torch.Tensor, input_ids: torch.Tensor) -> str:
    """What to add to the shape error when ``labels`` have the shape of ``input_ids``: a copy
    of the rows, as `transformers.DataCollatorForLanguageModeling` (``mlm=False``) makes."""
    if labels.shape != input_ids.shape:
        return ""
    return (
        ", the shape of input_ids: a copy of the rows, as DataCollatorForLanguageModeling makes "
        "(it replaces the tokenizer's labels); collate with DataCollatorWithPadding(tokenizer) "
        "or tokenization.tokenization_abc.AbcDataCollator()"
    )


def _labels_out_of_range(labels: torch.Tensor, sizes: tuple[int, int]) -> str:
    """Which label is outside its head's vocabulary, and where (read only after a failed check)."""
    for i, (name, size) in enumerate(zip(("main", "dur"), sizes)):
        column = labels[..., i]
        where = first_outside(column, size, ignore=-100)
        if where is not None:
            return (
                f"labels of {name!r} hold {int(column[where])} at {where} (batch, row), outside "
                f"the {name} head's vocabulary [0, {size}) and not -100 (ignored): were they made "
                f"by the tokenizer saved with this model?"
            )
    return "a label is outside its head's vocabulary"


def first_outside(
    column: torch.Tensor, size: int, ignore: Optional[int] = None
) -> Optional[tuple[int, ...]]:
    """The index of the first value of ``column`` outside ``[0, size)`` other than ``ignore``, or
    None (the error messages of out-of-range ids and labels)."""
    bad = (column < 0) | (column >= size)
    if ignore is not None:
        bad &= column != ignore
    found = bad.nonzero()
    return tuple(found[0].tolist()) if len(found) else None
