"""Read a PyTorch `torch.save` file into numpy arrays, without PyTorch.

Two layouts exist: the zip archive written since PyTorch 1.6 (`<name>/data.pkl` with one
`<name>/data/<key>` entry per storage) and the older "legacy" stream (a few pickles followed by the
raw storages), in which checkpoints from early 2020 were saved. Both pickle the object with tensors
as calls to `torch._utils._rebuild_tensor_v2` over storages named by key.

The unpickler here is a security boundary: a pickle may name any importable function, so only
the handful of names a checkpoint of tensors needs are resolved, each to our own safe stand-in.
Anything else is refused before it is imported.

A TorchScript archive (`torch.jit.save`, as OpenAI's CLIP checkpoints are published) has the same
zip layout; its `data.pkl` pickles the module tree as objects of classes named `__torch__.*`.
Each becomes a `ScriptModule` stand-in that only records its attributes; no TorchScript code in
the archive is read. `state_dict()` flattens that tree into the names `module.state_dict()` gives.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ml.errors import ModelError

# torch storage class -> numpy dtype of its elements. bfloat16 has no numpy dtype: its 16 bits are
# the high half of a float32 and are widened on load.
STORAGE_DTYPES = {
    "DoubleStorage": np.dtype("f8"),
    "FloatStorage": np.dtype("f4"),
    "HalfStorage": np.dtype("f2"),
    "BFloat16Storage": np.dtype("u2"),
    "LongStorage": np.dtype("i8"),
    "IntStorage": np.dtype("i4"),
    "ShortStorage": np.dtype("i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
NOT_A_CHECKPOINT = "{name} is not a PyTorch checkpoint ({reason})."


@dataclass(frozen=True, slots=True)
class StorageType:
    """What a pickled `torch.FloatStorage` (etc.) becomes: its element type. Frozen, so that a
    pickle cannot rewrite the shared instance."""

    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


def rebuild_tensor(storage, offset, size, stride, *_ignored) -> np.ndarray:
    """`torch._utils._rebuild_tensor_v2`: a read-only strided view of the storage (no copy)."""
    if not (
        isinstance(storage, np.ndarray)
        and isinstance(offset, int)
        and all(isinstance(n, int) for n in (*size, *stride))
        and len(size) == len(stride)
    ):
        raise ModelError("The checkpoint is corrupt: a tensor is described wrongly.")
    size, stride = tuple(size), tuple(stride)
    extent = offset + sum((n - 1) * s for n, s in zip(size, stride) if n > 0)
    if offset < 0 or any(s < 0 for s in stride) or (0 not in size and extent >= storage.size):
        raise ModelError("The checkpoint is corrupt: a tensor reaches past its storage.")
    item = storage.itemsize
    return np.lib.stride_tricks.as_strided(
        storage[offset:],
        shape=size,
        strides=[s * item for s in stride],
        writeable=False,
    )


def rebuild_parameter(data, *_ignored) -> np.ndarray:
    """`torch._utils._rebuild_parameter`: an nn.Parameter is its data."""
    return data


def numpy_scalar(dtype: np.dtype, data: bytes | None = None) -> Any:
    """numpy's pickled scalars (a plain number saved as e.g. `np.float64`)."""
    if dtype.hasobject or data is None:
        raise ModelError("The checkpoint holds a numpy object scalar, which is refused.")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """`_codecs.encode`, which protocol-2 pickles use to spell bytes objects."""
    if encoding != "latin1":
        raise ModelError(f"The checkpoint asks for the {encoding!r} codec, which is refused.")
    return text.encode("latin1")


class ScriptModule:
    """A pickled TorchScript module: its attributes (tensors, submodules, flags), nothing run."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise ModelError("The TorchScript archive holds a module that is not plain data.")
        self.attributes = state


def typed_list(items, *_ignored) -> list:
    """`torch.jit._pickle.build_intlist` etc. and `restore_type_tag`: the typed container as is."""
    return items


SAFE_GLOBALS = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
    ("numpy.core.multiarray", "scalar"): numpy_scalar,
    ("numpy._core.multiarray", "scalar"): numpy_scalar,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): latin1_encode,
    **{("torch", name): StorageType(name) for name in STORAGE_DTYPES},
    **{
        ("torch.jit._pickle", name): typed_list
        for name in (
            "restore_type_tag",
            "build_intlist",
            "build_doublelist",
            "build_boollist",
            "build_tensorlist",
        )
    },
}


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, storage) -> None:
        super().__init__(file, encoding="utf-8")
        # storage(StorageType, key, numel) -> that storage as a flat numpy array
        self.storage = storage

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            return ScriptModule
        try:
            return SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise ModelError(
                f"Refusing to load {module}.{name}: the file is not a plain checkpoint of "
                "tensors, and nothing else in it is ever run."
            ) from None

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and pid[:1] == ("storage",) and len(pid) >= 5):
            raise ModelError(f"The checkpoint refers to an unknown object {pid!r:.80}.")
        storage_type, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(storage_type, StorageType) or not isinstance(numel, int):
            raise ModelError("The checkpoint refers to a storage of an unknown type.")
        array = self.storage(storage_type, key, numel)
        if len(pid) > 5 and pid[5] is not None:  # a legacy view into another storage
            _view_key, start, count = pid[5]
            array = array[start : start + count]
        return array


def load(path: str | Path) -> Any:
    """The object saved in `path`, with every tensor as a read-only numpy array."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            if zipfile.is_zipfile(file):
                return _load_zip(file, path.name)
            file.seek(0)
            head = file.read(4)
            file.seek(0)
            if head.startswith(b"PK"):
                raise ModelError(
                    NOT_A_CHECKPOINT.format(
                        name=path.name, reason="an incomplete zip archive: truncated?"
                    )
                )
            if head[:1] == b"\x80":
                return _load_legacy(file, path.name)
    except ModelError:
        raise
    except OSError as exc:
        raise ModelError(f"Cannot read {path.name}: {exc.strerror or exc}.") from exc
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
    ) as exc:
        raise ModelError(
            NOT_A_CHECKPOINT.format(name=path.name, reason=f"unreadable or truncated: {exc}")
        ) from exc
    raise ModelError(NOT_A_CHECKPOINT.format(name=path.name, reason="unknown file format"))


def state_dict(obj: Any) -> dict[str, np.ndarray] | None:
    """The tensors of a loaded checkpoint by their state-dict names: a TorchScript module's
    tree flattened ("visual.conv1.weight"), a plain dict of tensors as it is; None otherwise."""
    if isinstance(obj, ScriptModule):
        out: dict[str, np.ndarray] = {}
        _flatten(obj, "", out)
        return out
    if isinstance(obj, dict) and obj and all(isinstance(v, np.ndarray) for v in obj.values()):
        return dict(obj)
    return None


def _flatten(module: ScriptModule, prefix: str, out: dict[str, np.ndarray]) -> None:
    for name, value in getattr(module, "attributes", {}).items():
        if isinstance(value, ScriptModule):
            _flatten(value, f"{prefix}{name}.", out)
        elif isinstance(value, np.ndarray):
            out[prefix + name] = value


def _load_zip(file: BinaryIO, name: str) -> Any:
    with zipfile.ZipFile(file) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ModelError(
                NOT_A_CHECKPOINT.format(name=name, reason="no data.pkl in the archive")
            )
        prefix = pickles[0].removesuffix("data.pkl")
        order = "<"
        if f"{prefix}byteorder" in archive.namelist():
            order = "<" if archive.read(f"{prefix}byteorder") == b"little" else ">"
        storages: dict[str, np.ndarray] = {}

        def storage(kind: StorageType, key: str, numel: int) -> np.ndarray:
            if key not in storages:
                raw = archive.read(f"{prefix}data/{key}")
                dtype = kind.dtype.newbyteorder(order)
                if len(raw) < numel * dtype.itemsize:
                    raise ModelError(f"The checkpoint is corrupt: storage {key} is too short.")
                storages[key] = _native(np.frombuffer(raw, dtype=dtype, count=numel), kind)
            return storages[key]

        try:
            with archive.open(pickles[0]) as data:
                return RestrictedUnpickler(data, storage).load()
        except zipfile.BadZipFile as exc:
            raise ModelError(
                NOT_A_CHECKPOINT.format(name=name, reason=f"a damaged archive: {exc}")
            ) from exc


def _load_legacy(file: BinaryIO, name: str) -> Any:
    """magic, protocol, sys_info, the object, its storage keys, then each storage as numel + bytes."""
    header = RestrictedUnpickler(file, None)
    if header.load() != LEGACY_MAGIC:
        raise ModelError(NOT_A_CHECKPOINT.format(name=name, reason="a pickle of something else"))
    header.load()  # protocol version
    sys_info = header.load()
    if not sys_info.get("little_endian", True):
        raise ModelError(f"{name} was saved on a big-endian machine, which is not supported.")
    # Storages come after the object, so tensors are views of buffers filled in afterwards.
    storages: dict[str, np.ndarray] = {}
    file_size = os.fstat(file.fileno()).st_size

    def storage(kind: StorageType, key: str, numel: int) -> np.ndarray:
        if kind.name == "BFloat16Storage":
            raise ModelError(f"{name} holds bfloat16 tensors in the legacy format.")
        if numel * kind.dtype.itemsize > file_size:
            raise _truncated(name)
        return storages.setdefault(key, np.empty(numel, dtype=kind.dtype))

    obj = RestrictedUnpickler(file, storage).load()
    for key in RestrictedUnpickler(file, None).load():
        buffer = storages[str(key)]
        numel = int.from_bytes(file.read(8), "little")
        if numel != buffer.size or file.readinto(buffer.view("u1")) != buffer.nbytes:
            raise _truncated(name)
    return obj


def _truncated(name: str) -> ModelError:
    return ModelError(
        NOT_A_CHECKPOINT.format(name=name, reason="truncated: a storage is incomplete")
    )


def _native(array: np.ndarray, kind: StorageType) -> np.ndarray:
    """Native byte order, and bfloat16 widened to float32 (its bits are a float32's high half)."""
    if kind.name == "BFloat16Storage":
        return (array.astype("<u4") << 16).view("<f4")
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))
