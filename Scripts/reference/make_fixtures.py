#!/usr/bin/env python3
"""Generate the golden fixtures loaded by the Swift tests.

Writes into Tests/MetaTXTests/Fixtures/ (override with --out):

  encoder_d64_l2_h4.safetensors  numpy float64 reference of a 2-block encoder
                                 (forward + backward, with and without a key
                                 padding mask), cross-checked against timm.
  adamw_golden.safetensors       torch.optim.AdamW run, float32, 5 steps.
  losses_golden.safetensors      cross-entropy (weighted + label smoothing),
                                 BCE-with-logits, MSE and CLIP InfoNCE values
                                 and gradients, torch float64.

Conventions: every *input* is drawn in float32 and stored as F32; every
*computed* value (outputs, losses, gradients) of the encoder and loss fixtures
is computed in float64 from the upcast float32 inputs and stored as F64. The
AdamW fixture is float32 throughout, as torch computes it.

Deterministic: fixed seeds (legacy np.random.RandomState, whose stream numpy
guarantees stable across releases), single-threaded BLAS/torch, and a
hand-written safetensors writer with sorted keys. Rerunning produces identical
bytes on the same machine.

Exit status is non-zero if any cross-check against torch exceeds its tolerance.
If torch/timm are not importable, the encoder fixture is still written from
numpy alone (the cross-check is reported as skipped) and the torch-only golden
files are left untouched.
"""
import argparse
import math
import os
import sys

# Single-threaded BLAS so that reductions happen in a fixed order (must be set
# before numpy/torch are imported).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import encoder_reference as ref  # noqa: E402
import safetensors_io  # noqa: E402
from torch_env import import_timm, import_torch  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "Tests", "MetaTXTests", "Fixtures")
GENERATOR = "Scripts/reference/make_fixtures.py"

ENCODER_TOL = 1e-9
failures = []


def check(label, diff, tol):
    status = "ok" if diff <= tol else "FAIL"
    print(f"  {label:<44s} max|diff| = {diff:.3e}  (tol {tol:.0e}) {status}")
    if not diff <= tol:  # also catches NaN
        failures.append(label)


def f32(rs, *shape, scale=1.0):
    return (scale * rs.standard_normal(shape)).astype(np.float32)


# =========================================================== encoder fixture

ENC_DIM, ENC_DEPTH, ENC_HEADS, ENC_BATCH, ENC_TOKENS, ENC_EPS = 64, 2, 4, 2, 10, 1e-5


def make_encoder(out_dir, torch, timm):
    print("encoder_d64_l2_h4:")
    rs = np.random.RandomState(1234)
    params = ref.init_params(rs, ENC_DIM, ENC_DEPTH)  # float32, non-identity
    x = f32(rs, ENC_BATCH, ENC_TOKENS, ENC_DIM)
    dy = f32(rs, ENC_BATCH, ENC_TOKENS, ENC_DIM)
    mask = np.ones((ENC_BATCH, ENC_TOKENS), dtype=np.float32)
    mask[1, -3:] = 0.0  # sequence 1: last 3 tokens are padding

    y, cache = ref.encoder_forward(params, x, ENC_HEADS, eps=ENC_EPS)
    dx, grads = ref.encoder_backward(cache, dy)
    ym, cache_m = ref.encoder_forward(params, x, ENC_HEADS, mask=mask, eps=ENC_EPS)
    dxm, grads_m = ref.encoder_backward(cache_m, dy)

    if torch is not None:
        _crosscheck_encoder(torch, timm, params, x, dy, mask,
                            (y, dx, grads), (ym, dxm, grads_m))
    else:
        print("  cross-check SKIPPED: torch is not importable")

    tensors = {"x": x, "dy": dy, "mask": mask,
               "y": y, "dx": dx, "y_masked": ym, "dx_masked": dxm}
    tensors.update(params)
    for k, g in grads.items():
        tensors[f"grad.{k}"] = g
    for k, g in grads_m.items():
        tensors[f"grad_masked.{k}"] = g
    meta = {"heads": str(ENC_HEADS), "eps": "1e-5", "generator": GENERATOR}
    return "encoder_d64_l2_h4.safetensors", tensors, meta


def _torch_reference_block(torch, P, i, x, heads, key_mask, eps):
    """Plain torch Block (independent of timm) using F.scaled_dot_product_attention."""
    F = torch.nn.functional
    g = lambda n: P[f"{i}.{n}"]  # noqa: E731
    B, N, D = x.shape
    h = F.layer_norm(x, (D,), g("norm1.weight"), g("norm1.bias"), eps)
    qkv = F.linear(h, g("attn.qkv.weight"), g("attn.qkv.bias"))
    q, k, v = qkv.reshape(B, N, 3, heads, D // heads).permute(2, 0, 3, 1, 4).unbind(0)
    attn_mask = None if key_mask is None else key_mask[:, None, None, :]  # True = attend
    o = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    x = x + F.linear(o.transpose(1, 2).reshape(B, N, D), g("attn.proj.weight"), g("attn.proj.bias"))
    h = F.layer_norm(x, (D,), g("norm2.weight"), g("norm2.bias"), eps)
    h = F.gelu(F.linear(h, g("mlp.fc1.weight"), g("mlp.fc1.bias")))
    return x + F.linear(h, g("mlp.fc2.weight"), g("mlp.fc2.bias"))


def _crosscheck_encoder(torch, timm, params, x, dy, mask, plain, masked):
    import functools
    nn = torch.nn
    key_mask = torch.from_numpy(mask != 0)
    dy_t = torch.from_numpy(dy.astype(np.float64))

    def run(forward, named_params):
        xt = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
        y = forward(xt)
        (y * dy_t).sum().backward()
        return (y.detach().numpy(), xt.grad.numpy(),
                {k: p.grad.numpy() for k, p in named_params.items()})

    def compare(label, got, want):
        (y, dx, g), (y0, dx0, g0) = got, want
        check(f"{label}: y", float(np.abs(y - y0).max()), ENCODER_TOL)
        check(f"{label}: dx", float(np.abs(dx - dx0).max()), ENCODER_TOL)
        check(f"{label}: all parameter grads",
              max(float(np.abs(g[k] - g0[k]).max()) for k in g0), ENCODER_TOL)

    # 1) the real timm Block, as the Meta-Transformer README builds it
    #    (norm_layer=nn.LayerNorm -> eps 1e-5; timm's own default would be 1e-6).
    if timm is not None:
        from timm.models.vision_transformer import Block
        import inspect
        has_mask_arg = "attn_mask" in inspect.signature(Block.forward).parameters
        for fused in (True, False):
            enc = nn.Sequential(*[
                Block(dim=ENC_DIM, num_heads=ENC_HEADS, mlp_ratio=4.0, qkv_bias=True,
                      norm_layer=functools.partial(nn.LayerNorm, eps=ENC_EPS), act_layer=nn.GELU)
                for _ in range(ENC_DEPTH)]).double().eval()
            # strict=True also proves the fixture's key layout is the official one
            enc.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in params.items()},
                                strict=True)
            for blk in enc:
                blk.attn.fused_attn = fused
            named = dict(enc.named_parameters())
            tag = f"timm {timm.__version__} Block ({'sdpa' if fused else 'manual softmax'})"
            compare(tag, run(enc, named), plain)
            for p in named.values():
                p.grad = None
            if has_mask_arg:
                def fwd_masked(t):
                    for blk in enc:
                        t = blk(t, attn_mask=key_mask[:, None, None, :])
                    return t
                compare(tag + " masked", run(fwd_masked, named), masked)
                for p in named.values():
                    p.grad = None
            else:
                print("  (this timm Block has no attn_mask argument; masked case checked below only)")
    else:
        print("  timm cross-check SKIPPED: timm is not importable")

    # 2) an independent plain-torch block using scaled_dot_product_attention
    for label, km, want in (("torch sdpa block", None, plain),
                            ("torch sdpa block masked (bool attn_mask)", key_mask, masked)):
        P = {k: torch.from_numpy(v.astype(np.float64)).requires_grad_(True) for k, v in params.items()}

        def fwd(t, km=km, P=P):
            for i in range(ENC_DEPTH):
                t = _torch_reference_block(torch, P, i, t, ENC_HEADS, km, ENC_EPS)
            return t
        compare(label, run(fwd, P), want)


# =========================================================== AdamW fixture
#
# torch.optim.AdamW (single-tensor path, foreach=False), per parameter p with
# gradient g, at step t = 1, 2, ...:
#     p   <- p * (1 - lr * weight_decay)               # decoupled decay first
#     m   <- m + (1 - beta1) * (g - m)                 # m.lerp_(g, 1 - beta1)
#     v   <- beta2 * v + (1 - beta2) * g * g
#     bc1  = 1 - beta1**t ;  bc2 = 1 - beta2**t        # python doubles
#     p   <- p - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
# Note that eps is added AFTER dividing sqrt(v) by sqrt(bc2).

ADAM = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, steps=5)
ADAM_GROUPS = (("decay", 0.1, ("p0", "p1")), ("nodecay", 0.0, ("p2",)))
ADAM_SHAPES = {"p0": (3, 4), "p1": (5,), "p2": (4,)}


def make_adamw(out_dir, torch):
    print("adamw_golden:")
    rs = np.random.RandomState(5678)
    init = {n: f32(rs, *s) for n, s in ADAM_SHAPES.items()}
    grads = {t: {n: f32(rs, *s) for n, s in ADAM_SHAPES.items()} for t in range(1, ADAM["steps"] + 1)}

    tp = {n: torch.nn.Parameter(torch.from_numpy(v.copy())) for n, v in init.items()}
    opt = torch.optim.AdamW(
        [{"params": [tp[n] for n in names], "weight_decay": wd} for _, wd, names in ADAM_GROUPS],
        lr=ADAM["lr"], betas=(ADAM["beta1"], ADAM["beta2"]), eps=ADAM["eps"],
        amsgrad=False, maximize=False, foreach=False)
    tensors = {f"init.{n}": v for n, v in init.items()}
    after = {}
    for t in range(1, ADAM["steps"] + 1):
        for n in tp:
            tp[n].grad = torch.from_numpy(grads[t][n].copy())
            tensors[f"grad.t{t}.{n}"] = grads[t][n]
        opt.step()
        opt.zero_grad(set_to_none=True)
        for n in tp:
            after[t, n] = tp[n].detach().numpy().copy()
            tensors[f"after.t{t}.{n}"] = after[t, n]

    # float64 numpy re-derivation of the documented update rule
    wd_of = {n: wd for _, wd, names in ADAM_GROUPS for n in names}
    worst = 0.0
    for n in init:
        p = init[n].astype(np.float64)
        m = np.zeros_like(p)
        v = np.zeros_like(p)
        for t in range(1, ADAM["steps"] + 1):
            g = grads[t][n].astype(np.float64)
            p = p * (1 - ADAM["lr"] * wd_of[n])
            m = m + (1 - ADAM["beta1"]) * (g - m)
            v = ADAM["beta2"] * v + (1 - ADAM["beta2"]) * g * g
            bc1, bc2 = 1 - ADAM["beta1"] ** t, 1 - ADAM["beta2"] ** t
            p = p - (ADAM["lr"] / bc1) * m / (np.sqrt(v) / math.sqrt(bc2) + ADAM["eps"])
            worst = max(worst, float(np.abs(p - after[t, n]).max()))
    check("numpy float64 AdamW vs torch float32", worst, 1e-5)

    meta = {"lr": repr(ADAM["lr"]), "beta1": repr(ADAM["beta1"]), "beta2": repr(ADAM["beta2"]),
            "eps": repr(ADAM["eps"]), "steps": str(ADAM["steps"]),
            "amsgrad": "false", "maximize": "false",
            "groups": ";".join(f"{g}:{','.join(names)}" for g, _, names in ADAM_GROUPS),
            "generator": GENERATOR}
    for g, wd, _ in ADAM_GROUPS:
        meta[f"weight_decay.{g}"] = repr(wd)
    return "adamw_golden.safetensors", tensors, meta


# =========================================================== losses fixture
#
# torch.nn.functional.cross_entropy(z, y, weight=w, label_smoothing=eps,
# reduction='mean') with C classes and log-probabilities L = log_softmax(z):
#
#     loss = (1 - eps) * sum_i w[y_i] * (-L[i, y_i]) / sum_i w[y_i]
#          +  eps / C  * sum_i sum_c w[c] * (-L[i, c]) / sum_i w[y_i]
#
# i.e. BOTH terms are divided by the same normaliser, the sum of the weights of
# the TARGET classes (the nll_loss 'mean' normaliser), NOT by the batch size
# and NOT by sum(w). (ignored targets would be dropped from both sums.) Without
# weights (w = 1) the normaliser is simply the number of samples.
# Gradient w.r.t. z[i]  (p = softmax(z[i]), W = sum_c w[c], Z = sum_k w[y_k]):
#     ((1 - eps) * w[y_i] * (p - onehot(y_i)) + eps / C * (W * p - w)) / Z
# make_losses() verifies both formulas against torch.

def ce_reference(z, y, w, eps):
    n, c = z.shape
    w = np.ones(c) if w is None else w
    L = z - z.max(axis=1, keepdims=True)
    L = L - np.log(np.exp(L).sum(axis=1, keepdims=True))
    p = np.exp(L)
    Z = w[y].sum()
    loss = ((1 - eps) * (w[y] * -L[np.arange(n), y]).sum() + eps / c * (-(L * w)).sum()) / Z
    onehot = np.eye(c)[y]
    dz = ((1 - eps) * w[y][:, None] * (p - onehot) + eps / c * (w.sum() * p - w)) / Z
    return loss, dz


def make_losses(out_dir, torch):
    print("losses_golden:")
    F = torch.nn.functional
    rs = np.random.RandomState(9012)
    T = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64)).requires_grad_(True)  # noqa: E731
    out = {}

    # --- cross-entropy
    ce_logits = f32(rs, 6, 5, scale=2.0)
    ce_target = np.array([0, 3, 1, 4, 3, 2], dtype=np.int64)
    ce_weights = rs.uniform(0.5, 2.0, size=5).astype(np.float32)
    z = T(ce_logits)
    loss = F.cross_entropy(z, torch.from_numpy(ce_target), weight=torch.from_numpy(ce_weights.astype(np.float64)),
                           label_smoothing=0.1, reduction="mean")
    loss.backward()
    out.update({"ce.logits": ce_logits, "ce.target": ce_target.astype(np.float32), "ce.weights": ce_weights,
                "ce.loss": loss.detach().numpy().reshape(1), "ce.dlogits": z.grad.numpy()})
    l_ref, d_ref = ce_reference(ce_logits.astype(np.float64), ce_target, ce_weights.astype(np.float64), 0.1)
    check("CE weighted+smoothed: formula vs torch (loss)", abs(l_ref - loss.item()), 1e-12)
    check("CE weighted+smoothed: formula vs torch (grad)", float(np.abs(d_ref - z.grad.numpy()).max()), 1e-12)

    z = T(ce_logits)
    loss = F.cross_entropy(z, torch.from_numpy(ce_target), reduction="mean")
    loss.backward()
    out.update({"ce_plain.loss": loss.detach().numpy().reshape(1), "ce_plain.dlogits": z.grad.numpy()})
    l_ref, d_ref = ce_reference(ce_logits.astype(np.float64), ce_target, None, 0.0)
    check("CE plain: formula vs torch (loss)", abs(l_ref - loss.item()), 1e-12)
    check("CE plain: formula vs torch (grad)", float(np.abs(d_ref - z.grad.numpy()).max()), 1e-12)

    # --- binary cross-entropy with logits: mean(max(z,0) - z*t + log1p(exp(-|z|)))
    bce_logits = f32(rs, 4, 3, scale=2.0)
    bce_targets = (rs.uniform(size=(4, 3)) < 0.5).astype(np.float32)
    z = T(bce_logits)
    loss = F.binary_cross_entropy_with_logits(z, torch.from_numpy(bce_targets.astype(np.float64)), reduction="mean")
    loss.backward()
    out.update({"bce.logits": bce_logits, "bce.targets": bce_targets,
                "bce.loss": loss.detach().numpy().reshape(1), "bce.dlogits": z.grad.numpy()})
    zz, tt = bce_logits.astype(np.float64), bce_targets.astype(np.float64)
    l_ref = np.mean(np.maximum(zz, 0) - zz * tt + np.log1p(np.exp(-np.abs(zz))))
    d_ref = (1 / (1 + np.exp(-zz)) - tt) / zz.size
    check("BCE: formula vs torch (loss)", abs(l_ref - loss.item()), 1e-12)
    check("BCE: formula vs torch (grad)", float(np.abs(d_ref - z.grad.numpy()).max()), 1e-12)

    # --- mean squared error
    mse_pred, mse_target = f32(rs, 5, 2), f32(rs, 5, 2)
    p = T(mse_pred)
    loss = F.mse_loss(p, torch.from_numpy(mse_target.astype(np.float64)), reduction="mean")
    loss.backward()
    out.update({"mse.pred": mse_pred, "mse.target": mse_target,
                "mse.loss": loss.detach().numpy().reshape(1), "mse.dpred": p.grad.numpy()})

    # --- CLIP symmetric InfoNCE
    # A = a/|a|, B = b/|b| (row-wise), s = exp(logit_scale), S = s * A @ B^T,
    # loss = (CE(S, arange) + CE(S^T, arange)) / 2, both CE plain mean.
    ia, ib = f32(rs, 6, 8), f32(rs, 6, 8)
    ils = np.array([math.log(1 / 0.07) + 0.3], dtype=np.float32)
    a, b, ls = T(ia), T(ib), T(ils)
    A = a / a.norm(dim=-1, keepdim=True)
    B = b / b.norm(dim=-1, keepdim=True)
    S = ls.exp() * (A @ B.T)
    labels = torch.arange(6)
    loss = (F.cross_entropy(S, labels) + F.cross_entropy(S.T, labels)) / 2
    loss.backward()
    out.update({"infonce.a": ia, "infonce.b": ib, "infonce.logit_scale": ils,
                "infonce.loss": loss.detach().numpy().reshape(1),
                "infonce.da": a.grad.numpy(), "infonce.db": b.grad.numpy(),
                "infonce.dlogit_scale": ls.grad.numpy().reshape(1)})
    _check_infonce(ia, ib, ils, loss.item(), a.grad.numpy(), b.grad.numpy(), ls.grad.item())

    meta = {"ce.label_smoothing": "0.1", "reduction": "mean",
            "ce.normaliser": "sum_i weight[target_i] (both nll and smoothing terms)",
            "generator": GENERATOR}
    return "losses_golden.safetensors", out, meta


def _check_infonce(ia, ib, ils, loss_t, da_t, db_t, dls_t):
    """Closed-form numpy InfoNCE forward/backward, compared with torch autograd."""
    a, b, ls = ia.astype(np.float64), ib.astype(np.float64), float(ils[0])
    n = a.shape[0]
    na, nb = np.linalg.norm(a, axis=1, keepdims=True), np.linalg.norm(b, axis=1, keepdims=True)
    A, B = a / na, b / nb
    s = math.exp(ls)
    C = A @ B.T
    S = s * C
    loss_ab, dS1 = ce_reference(S, np.arange(n), None, 0.0)
    loss_ba, dS2 = ce_reference(S.T, np.arange(n), None, 0.0)
    loss = (loss_ab + loss_ba) / 2
    dS = (dS1 + dS2.T) / 2
    dC = s * dS
    dls = s * float((dS * C).sum())  # dS/dls = s * C
    dA, dB = dC @ B, dC.T @ A
    # through x / |x|: dx = (dX - X * <dX, X>) / |x|
    da = (dA - A * (dA * A).sum(axis=1, keepdims=True)) / na
    db = (dB - B * (dB * B).sum(axis=1, keepdims=True)) / nb
    check("InfoNCE: closed form vs torch (loss)", abs(loss - loss_t), 1e-12)
    check("InfoNCE: closed form vs torch (da, db)",
          max(float(np.abs(da - da_t).max()), float(np.abs(db - db_t).max())), 1e-12)
    check("InfoNCE: closed form vs torch (dlogit_scale)", abs(dls - dls_t), 1e-12)


# =========================================================== main

def write(out_dir, name, tensors, meta):
    path = os.path.join(out_dir, name)
    data = safetensors_io.serialize(tensors, meta)
    safetensors_io.write_atomic(path, data)
    # round-trip through the official reader when it is installed
    try:
        from safetensors.numpy import load_file
        back = load_file(path)
        assert set(back) == set(tensors)
        for k, v in tensors.items():
            assert back[k].dtype == np.asarray(v).dtype and np.array_equal(back[k], v), k
        how = "verified with safetensors"
    except ImportError:
        back, _ = safetensors_io.load(path)
        assert all(np.array_equal(back[k], v) for k, v in tensors.items())
        how = "verified with built-in reader"
    print(f"  wrote {os.path.relpath(path, REPO)} ({len(tensors)} tensors, {len(data)} bytes, {how})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    ap.add_argument("--numpy-only", action="store_true", help="do not import torch/timm")
    args = ap.parse_args()

    torch = None if args.numpy_only else import_torch()
    timm = None if torch is None else import_timm()
    if torch is not None:
        torch.set_num_threads(1)
        print(f"torch {torch.__version__}, timm {getattr(timm, '__version__', 'not available')}, "
              f"numpy {np.__version__}")
    else:
        print(f"numpy {np.__version__}; torch not available")

    jobs = [make_encoder(args.out, torch, timm)]
    if torch is not None:
        jobs.append(make_adamw(args.out, torch))
        jobs.append(make_losses(args.out, torch))
    else:
        print("adamw_golden / losses_golden SKIPPED (torch goldens need torch); existing files kept")

    if failures:
        print(f"\nFAILED cross-checks: {', '.join(failures)}; no fixture written", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    print("writing:")
    for name, tensors, meta in jobs:
        write(args.out, name, tensors, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
