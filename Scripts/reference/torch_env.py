"""Import torch / timm defensively.

timm (>= 0.9) imports torchvision at import time. On a CPU-only torch wheel
paired with a CUDA torchvision wheel from PyPI, torchvision's compiled ops
library fails to load and `import torchvision` then dies with
"RuntimeError: operator torchvision::nms does not exist" (its
_meta_registrations module registers fake kernels for `nms`/`qnms`
unconditionally). Nothing we use needs torchvision's ops, so on that specific
failure we declare the two operator schemas ourselves and import again; the
rest of torchvision (pure Python) and timm then import fine.
"""
import sys

_SHIM_LIB = None  # keep the torch.library.Library object alive


def _purge_torchvision():
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]


def import_torch():
    """Return the torch module, or None if it is not installed/importable."""
    try:
        import torch
        return torch
    except Exception:  # noqa: BLE001 - any failure means "no torch"
        return None


def import_timm():
    """Return the timm module (with the torchvision workaround), or None."""
    global _SHIM_LIB
    torch = import_torch()
    if torch is None:
        return None
    try:
        import torchvision  # noqa: F401
    except ImportError:
        pass  # timm will report its own ImportError below
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise
        _purge_torchvision()
        _SHIM_LIB = torch.library.Library("torchvision", "FRAGMENT")
        _SHIM_LIB.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _SHIM_LIB.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        try:
            import torchvision  # noqa: F401
        except Exception:  # noqa: BLE001
            _purge_torchvision()
    try:
        import timm
        import timm.models.vision_transformer  # noqa: F401
        return timm
    except Exception as e:  # noqa: BLE001
        print(f"[torch_env] timm not importable: {type(e).__name__}: {e}", file=sys.stderr)
        return None
