"""What `Scripts/transfer.sh` needs to know about a metatx model file, read
from its safetensors header alone (no tensors are loaded):

    python3 Scripts/transfer/model_header.py data/model.safetensors preset
    tiny
    python3 Scripts/transfer/model_header.py data/model.safetensors modalities
    audio image text

A safetensors file starts with an 8-byte little-endian header length and that
many bytes of JSON; its `__metadata__` object maps names to strings. A metatx
model file (Sources/MetaTX/Model/ModelFile.swift) keeps the encoder's shape
there as JSON under `encoder` and one `tokenizer.<modality>` entry per
pretrained tokenizer. Standard library only.
"""

import argparse
import json
import struct
import sys

# The encoder presets of `--encoder random:PRESET`
# (EncoderPreset in Sources/MetaTX/Encoder/EncoderConfig.swift):
# name → (dim, depth, heads, MLP hidden width).
PRESETS = {
    "tiny": (192, 12, 3, 768),
    "small": (384, 12, 6, 1536),
    "base": (768, 12, 12, 3072),
    "large": (1024, 24, 16, 4096),
}

# A header larger than this is not a safetensors header but a damaged or foreign file.
MAXIMUM_HEADER_BYTES = 100 * 1024 * 1024


class HeaderError(Exception):
    """A one-line problem with the model file, naming it."""


def read_metadata(path):
    """The `__metadata__` object (names → strings) of the safetensors file at `path`."""
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise HeaderError(f"{path}: is {len(prefix)} bytes long; a safetensors file starts with an 8-byte header length")
        (length,) = struct.unpack("<Q", prefix)
        if length > MAXIMUM_HEADER_BYTES:
            raise HeaderError(f"{path}: header length {length} is implausible; not a safetensors file")
        header = handle.read(length)
    if len(header) < length:
        raise HeaderError(f"{path}: header is cut short ({len(header)} of {length} bytes)")
    try:
        parsed = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise HeaderError(f"{path}: header is not JSON ({error})") from error
    if not isinstance(parsed, dict):
        raise HeaderError(f"{path}: header is not a JSON object")
    metadata = parsed.get("__metadata__", {})
    if not isinstance(metadata, dict):
        raise HeaderError(f"{path}: __metadata__ is not a JSON object")
    return metadata


def require_model(path, metadata):
    """Raises HeaderError unless `metadata` is a metatx model file's."""
    if metadata.get("format") != "metatx-model":
        found = metadata.get("format")
        raise HeaderError(f"{path}: not a metatx model (metadata format is "
                          + (f"\"{found}\"" if found is not None else "missing")
                          + ", expected \"metatx-model\"); make model writes one")


def encoder_preset(path, metadata):
    """The preset name whose encoder has the model's dim, depth, heads and MLP width."""
    require_model(path, metadata)
    try:
        encoder = json.loads(metadata["encoder"])
        shape = (int(encoder["dim"]), int(encoder["depth"]), int(encoder["heads"]), int(encoder["mlpHidden"]))
    except (KeyError, ValueError, TypeError) as error:
        raise HeaderError(f"{path}: metadata \"encoder\" is not the encoder's JSON configuration ({error})") from error
    for name, preset in PRESETS.items():
        if preset == shape:
            return name
    known = "; ".join(f"{name} {'/'.join(map(str, preset))}" for name, preset in PRESETS.items())
    raise HeaderError(f"{path}: encoder dim/depth/heads/MLP {'/'.join(map(str, shape))} matches no random:PRESET "
                      f"(known: {known})")


def pretrained_modalities(path, metadata):
    """The modalities the model has a pretrained tokenizer for, sorted."""
    require_model(path, metadata)
    prefix = "tokenizer."
    return sorted(name[len(prefix):] for name in metadata if name.startswith(prefix) and "." not in name[len(prefix):])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a metatx model file")
    parser.add_argument("question", choices=("preset", "modalities"),
                        help="preset: the random:PRESET of the same encoder size; modalities: its pretrained tokenizers")
    arguments = parser.parse_args()
    try:
        metadata = read_metadata(arguments.model)
        if arguments.question == "preset":
            print(encoder_preset(arguments.model, metadata))
        else:
            print(" ".join(pretrained_modalities(arguments.model, metadata)))
    except (OSError, HeaderError) as error:
        print(f"model_header: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
