"""Minimal, dependency-free safetensors reader/writer for numpy arrays.

Why hand-written: the fixtures must be byte-for-byte reproducible regardless of
which `safetensors` release is installed (or whether it is installed at all).
The layout written here is the standard one:

    u64 little-endian header length N
    N bytes of UTF-8 JSON: {"__metadata__": {str: str}, name: {"dtype", "shape",
                            "data_offsets": [begin, end]}, ...}
                            padded with spaces so that the data starts 8-aligned
    raw little-endian tensor bytes, concatenated in header order

Tensors are written in sorted-name order and the JSON keys are sorted, so the
output depends only on the tensor contents.
"""
import json
import os
import struct
import tempfile

import numpy as np

_DTYPES = {
    np.dtype("float64"): "F64",
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("int16"): "I16",
    np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}
_NP_OF = {v: k for k, v in _DTYPES.items()}


def serialize(tensors, metadata=None):
    """Return the safetensors bytes for a {name: ndarray} dict."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        if arr.dtype not in _DTYPES:
            raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
        data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": _DTYPES[arr.dtype],
            "shape": [int(s) for s in arr.shape],
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs)


def write_atomic(path, data):
    """Write bytes to `path` via a temp file in the same directory + rename."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(path, tensors, metadata=None):
    write_atomic(path, serialize(tensors, metadata))


def load(path):
    """Return ({name: ndarray}, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = _NP_OF[info["dtype"]].newbyteorder("<")
        out[name] = np.frombuffer(raw[base + b:base + e], dtype=dt).reshape(info["shape"]).astype(dt.newbyteorder("="))
    return out, meta
