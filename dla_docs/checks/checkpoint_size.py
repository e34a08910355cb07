"""Whether a checkpoint file's size can stand for the model's ``File Size``.

``File Size`` is the size of ``torch.save(state_dict)`` of the model's real, distinct
tensors. A file can have every key, shape and dtype right and still not be that:

- tensors that share a storage (``torch.zeros(()).expand(shape)``, overlapping views of one
  buffer) are written once, so the file is far smaller than the model's checkpoint;
- a tensor that is a view into a larger storage drags the whole storage into the file;
- a file can carry more than the state dict: an optimizer's tensors or other records in the
  archive (``torch.load`` reads only what the pickle names), padding, a zip comment.

:func:`storage_problem` checks the loaded tensors, :func:`archive_problem` the file around
them. Either gives the reason on one line; the file's size is then not used (nor written by
``--fix``). Serializers differ in their bookkeeping, so the bookkeeping is bounded rather than
predicted: a zip archive (``torch.save`` since 1.6) must hold only torch's records, with at
most :data:`ZIP_RECORD_BYTES` of headers per record and a pickle of at most
:func:`pickle_bound`; the legacy format, at most :data:`LEGACY_BYTES_PER_TENSOR` a tensor
(the published 2018 checkpoints write up to about 4 KB).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: records torch.save writes beside ``data.pkl`` and ``data/<n>``
TORCH_RECORDS = frozenset({".format_version", ".storage_alignment", "byteorder", "version", ".data/version",
                           ".data/serialization_id"})
ZIP_RECORD_BYTES = 256          # local and central headers, alignment padding, data descriptor, a record
ZIP_END_BYTES = 22 + 56 + 20    # end of central directory, with its zip64 forms
LEGACY_BYTES_PER_TENSOR = 8192
LEGACY_BASE_BYTES = 64 * 1024


def _example(items: list[str]) -> str:
    """The first item, and how many more: ``e.g. 'fc.weight' (its detail) and 3 more``."""
    return f"e.g. {items[0]}" + (f", and {len(items) - 1} more" if len(items) > 1 else "")


def storage_problem(state_dict: Mapping[str, Any]) -> str | None:
    """Why the tensors of ``state_dict`` are not distinct, whole tensors, or ``None``.

    Each tensor must own its storage: from offset 0, exactly its own bytes long (a permuted
    layout such as channels-last is fine: the bytes are the same), and no storage may back two
    tensors.
    """
    owners: dict[int, str] = {}
    shared: list[str] = []
    smaller: list[str] = []
    larger: list[str] = []
    for key, tensor in state_dict.items():
        storage = tensor.untyped_storage()
        need = tensor.numel() * tensor.element_size()
        if storage.nbytes() < need:  # a permuted dense tensor (channels-last) holds all its bytes: fine
            smaller.append(f"{key!r}: {need:,} bytes of data in a storage of {storage.nbytes():,}")
        elif storage.nbytes() > need or tensor.storage_offset():
            larger.append(f"{key!r}: {need:,} bytes of data in a storage of {storage.nbytes():,}")
        if storage.nbytes():
            pointer = storage.data_ptr()
            if pointer in owners:
                shared.append(f"{key!r} with {owners[pointer]!r}")
            else:
                owners[pointer] = key
    total = len(state_dict)
    if shared:
        return (f"{len(shared)} of {total} tensors share their storage with another tensor ({_example(shared)}): "
                "a shared storage is saved once, so the file is not the size of the model's checkpoint of "
                "distinct tensors")
    if smaller:
        return (f"{len(smaller)} of {total} tensors are expanded or overlapping views, not whole tensors "
                f"({_example(smaller)}): the file is smaller than the model's checkpoint")
    if larger:
        return (f"{len(larger)} of {total} tensors are views into a larger storage ({_example(larger)}): the whole "
                "storage is saved, so the file is larger than the model's checkpoint")
    return None


def pickle_bound(state_dict: Mapping[str, Any]) -> int:
    """The most bytes a state dict's pickle needs: its keys twice, 256 bytes a tensor, 4 KiB."""
    return 4096 + sum(2 * len(key) + 256 for key in state_dict)


def _storage_bytes(state_dict: Mapping[str, Any]) -> int:
    seen: dict[int, int] = {}
    for tensor in state_dict.values():
        storage = tensor.untyped_storage()
        seen.setdefault(storage.data_ptr(), storage.nbytes())
    return sum(seen.values())


def archive_problem(path: Path, state_dict: Mapping[str, Any]) -> str | None:
    """Why the file at ``path`` holds more than ``state_dict`` (whose tensors passed
    :func:`storage_problem`), or ``None``."""
    size = path.stat().st_size
    payload = _storage_bytes(state_dict)
    if not zipfile.is_zipfile(path):
        bound = LEGACY_BASE_BYTES + sum(LEGACY_BYTES_PER_TENSOR + 2 * len(k) for k in state_dict)
        if size - payload > bound:
            return (f"holds {size - payload:,} bytes besides its tensors' {payload:,}, more than a serializer writes "
                    f"for {len(state_dict)} tensors (at most {bound:,}): the file carries more than the state dict")
        return None
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        comment = len(archive.comment)
    prefix = infos[0].filename.split("/", 1)[0] + "/" if infos else ""
    records = [i for i in infos if i.filename.startswith(f"{prefix}data/")]
    others = [i.filename for i in infos if i.filename.removeprefix(prefix) not in TORCH_RECORDS | {"data.pkl"}
              and not i.filename.startswith(f"{prefix}data/")]
    storages = len({t.untyped_storage().data_ptr() for t in state_dict.values()})
    if others:
        return (f"holds {len(others)} record(s) torch.load does not read ({_example([repr(o) for o in others])}): "
                "the file carries "
                "more than the state dict")
    if len(records) > storages:
        return (f"holds {len(records)} tensor records but the state dict uses {storages}: the file carries other "
                "tensors too (an optimizer's state, say), so its size is not the state dict's")
    pickled = next((i.file_size for i in infos if i.filename == f"{prefix}data.pkl"), 0)
    if pickled > pickle_bound(state_dict):
        return (f"its pickle is {pickled:,} bytes, more than a state dict of {len(state_dict)} tensors needs (at most "
                f"{pickle_bound(state_dict):,}): the file carries more than the state dict")
    bookkeeping = size - sum(i.compress_size for i in infos)
    bound = ZIP_END_BYTES + sum(ZIP_RECORD_BYTES + 2 * len(i.filename.encode()) for i in infos)
    if comment or bookkeeping > bound:
        return (f"holds {bookkeeping:,} bytes outside its records, more than a zip archive of {len(infos)} records "
                f"needs (at most {bound:,}): padding or hidden data, so its size is not the state dict's")
    return None
