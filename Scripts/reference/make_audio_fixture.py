#!/usr/bin/env python3
"""Golden log-mel filter banks from torchaudio's `compliance.kaldi.fbank`.

Writes Tests/MetaTXTests/Fixtures/audio_fbank.safetensors (override with --out):

  signal          F32 [8000]      0.5 s at 16 kHz: two tones, a chirp and seeded noise
  fbank_povey     F32 [48, 128]   fbank(signal) with AST's settings, Povey window
  fbank_hanning   F32 [48, 128]   the same with window_type="hanning" (what AST's code passes)

AST's settings (Gong et al. 2021, `ast/src/dataloader.py`): 16 kHz, 25 ms
frames, 10 ms shift, 128 mel bins, dither 0, preemphasis 0.97, DC offset
removed, snip edges, FFT size rounded up to a power of two (512), htk_compat,
no energy column, low 20 Hz, high 0 (= Nyquist).

torchaudio >= 2.9 ships no wheel matching every torch release and its compiled
extension refuses to load against another torch; `compliance/kaldi.py` itself is
pure PyTorch and uses `torchaudio` only for MFCC's DCT, so this script loads that
one file with a stub `torchaudio` module. Setup used for the committed fixture:

    python3 -m venv /tmp/venv-audio
    /tmp/venv-audio/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl numpy
    /tmp/venv-audio/bin/pip install --no-deps torchaudio==2.11.1
    /tmp/venv-audio/bin/python Scripts/reference/make_audio_fixture.py
"""
import argparse
import importlib.util
import os
import sys
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def load_kaldi():
    """torchaudio.compliance.kaldi, imported without torchaudio's C extension."""
    spec = importlib.util.find_spec("torchaudio")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("torchaudio is not installed (pip install --no-deps torchaudio)")
    path = os.path.join(spec.submodule_search_locations[0], "compliance", "kaldi.py")
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    module_spec = importlib.util.spec_from_file_location("kaldi_reference", path)
    kaldi = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(kaldi)
    return kaldi


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--out", default=os.path.join(root, "Tests/MetaTXTests/Fixtures/audio_fbank.safetensors"))
    args = parser.parse_args()
    kaldi = load_kaldi()

    rate = 16000
    t = np.arange(8000) / rate
    rng = np.random.RandomState(20231)
    signal = (
        0.3 * np.sin(2 * np.pi * 440 * t)
        + 0.2 * np.sin(2 * np.pi * 1000 * t + 0.5)
        + 0.1 * np.sin(2 * np.pi * (200 * t + 3000 * t * t))
        + 0.01 * rng.standard_normal(t.shape)
        + 0.05  # a DC offset, which remove_dc_offset must take out
    ).astype(np.float32)

    outputs = {"signal": signal}
    for window in ("povey", "hanning"):
        fbank = kaldi.fbank(
            torch.from_numpy(signal)[None, :], htk_compat=True, sample_frequency=rate, use_energy=False,
            window_type=window, num_mel_bins=128, dither=0.0, frame_shift=10, frame_length=25,
            preemphasis_coefficient=0.97, remove_dc_offset=True, snip_edges=True,
            round_to_power_of_two=True, low_freq=20.0, high_freq=0.0)
        outputs[f"fbank_{window}"] = fbank.numpy().astype(np.float32)
    safetensors_io.save(args.out, outputs, metadata={"generator": "Scripts/reference/make_audio_fixture.py",
                                                     "torch": torch.__version__})
    print(f"wrote {args.out}: " + ", ".join(f"{k} {list(v.shape)}" for k, v in sorted(outputs.items())))


if __name__ == "__main__":
    main()
