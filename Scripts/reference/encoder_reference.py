"""Independent float64 numpy reference for the Meta-Transformer shared encoder.

The encoder is a stack of timm ViT `Block`s (pre-norm):

    h = x + proj(attn(norm1(x)))
    y = h + fc2(gelu(fc1(norm2(h))))

* LayerNorm: biased variance, eps (1e-5 for the released checkpoints, which the
  Meta-Transformer README builds with `norm_layer=nn.LayerNorm`), weight + bias.
* GELU: exact erf form, 0.5 * x * (1 + erf(x / sqrt(2))).
* Linear weights are [out, in]: y = x @ W.T + b.
* Attention: fused `qkv` Linear (with bias); its output [B, N, 3D] is viewed as
  [B, N, 3, H, D/H] -> q, k, v (in that order), heads contiguous inside each of
  q/k/v. Scores are (q @ k^T) * (D/H)^-0.5, softmax over keys, heads are
  concatenated back to [B, N, D] (head-major), then the `proj` Linear.
* Optional key-padding mask [B, N] (1 = real token, 0 = padding): padded KEYS
  get -inf before the softmax. Query rows of padded tokens are computed exactly
  like real ones (they still attend to the real keys), matching
  `scaled_dot_product_attention` with a boolean key mask.

Parameters are a flat dict keyed as in the official checkpoint, e.g.
`0.attn.qkv.weight`. `encoder_backward` returns dx and the gradient of every
parameter for the loss sum(y * dy).

Run this file directly for a finite-difference self-test (numpy only).
"""
import math

import numpy as np

# Parameter names of one block, in the official checkpoint layout.
BLOCK_PARAMS = (
    "norm1.weight", "norm1.bias",
    "attn.qkv.weight", "attn.qkv.bias",
    "attn.proj.weight", "attn.proj.bias",
    "norm2.weight", "norm2.bias",
    "mlp.fc1.weight", "mlp.fc1.bias",
    "mlp.fc2.weight", "mlp.fc2.bias",
)

_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact to double


def erf(x):
    return _erf(x).astype(np.float64)


def param_names(depth):
    return [f"{i}.{n}" for i in range(depth) for n in BLOCK_PARAMS]


def depth_of(params):
    return 1 + max(int(k.split(".", 1)[0]) for k in params)


def init_params(rng, dim, depth, mlp_ratio=4, w_std=0.2, dtype=np.float32):
    """Random (non-identity) parameters, drawn in float32 by default."""
    hidden = mlp_ratio * dim
    shapes = {
        "norm1.weight": (dim,), "norm1.bias": (dim,),
        "attn.qkv.weight": (3 * dim, dim), "attn.qkv.bias": (3 * dim,),
        "attn.proj.weight": (dim, dim), "attn.proj.bias": (dim,),
        "norm2.weight": (dim,), "norm2.bias": (dim,),
        "mlp.fc1.weight": (hidden, dim), "mlp.fc1.bias": (hidden,),
        "mlp.fc2.weight": (dim, hidden), "mlp.fc2.bias": (dim,),
    }
    params = {}
    for i in range(depth):
        for name in BLOCK_PARAMS:
            shape = shapes[name]
            if name.startswith("norm") and name.endswith(".weight"):
                v = 1.0 + 0.1 * rng.standard_normal(shape)
            elif name.endswith(".weight"):
                v = w_std * rng.standard_normal(shape)
            else:
                v = 0.1 * rng.standard_normal(shape)
            params[f"{i}.{name}"] = v.astype(dtype)
    return params


# ---------------------------------------------------------------- primitives

def linear_fwd(x, w, b):
    return x @ w.T + b


def linear_bwd(x, w, dy):
    """Returns dx, dW, db for y = x @ W.T + b (leading dims are summed)."""
    dx = dy @ w
    dw = dy.reshape(-1, dy.shape[-1]).T @ x.reshape(-1, x.shape[-1])
    db = dy.reshape(-1, dy.shape[-1]).sum(axis=0)
    return dx, dw, db


def layernorm_fwd(x, g, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)  # biased
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    return xhat * g + b, (xhat, rstd, g)


def layernorm_bwd(cache, dy):
    xhat, rstd, g = cache
    d = xhat.shape[-1]
    dg = (dy * xhat).reshape(-1, d).sum(axis=0)
    db = dy.reshape(-1, d).sum(axis=0)
    dxhat = dy * g
    dx = rstd * (dxhat
                 - dxhat.mean(axis=-1, keepdims=True)
                 - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, dg, db


def gelu_fwd(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def gelu_bwd(x, dy):
    cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return dy * (cdf + x * pdf)


def attention_fwd(h, wqkv, bqkv, wproj, bproj, heads, mask):
    B, N, D = h.shape
    hd = D // heads
    scale = hd ** -0.5
    qkv = linear_fwd(h, wqkv, bqkv)                                 # [B, N, 3D]
    qkv5 = qkv.reshape(B, N, 3, heads, hd).transpose(2, 0, 3, 1, 4)  # [3, B, H, N, hd]
    q, k, v = qkv5[0], qkv5[1], qkv5[2]
    s = (q @ k.transpose(0, 1, 3, 2)) * scale                       # [B, H, N, N]
    if mask is not None:
        keep = (mask != 0)[:, None, None, :]                         # key mask
        if not keep.any(axis=-1).all():
            raise ValueError("a sequence has no real token; softmax undefined")
        s = np.where(keep, s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    o = p @ v                                                        # [B, H, N, hd]
    ocat = o.transpose(0, 2, 1, 3).reshape(B, N, D)                  # heads concatenated
    out = linear_fwd(ocat, wproj, bproj)
    return out, (h, q, k, v, p, ocat, scale, heads)


def attention_bwd(cache, wqkv, wproj, dout):
    h, q, k, v, p, ocat, scale, heads = cache
    B, N, D = h.shape
    hd = D // heads
    docat, dwproj, dbproj = linear_bwd(ocat, wproj, dout)
    do = docat.reshape(B, N, heads, hd).transpose(0, 2, 1, 3)       # [B, H, N, hd]
    dp = do @ v.transpose(0, 1, 3, 2)
    dv = p.transpose(0, 1, 3, 2) @ do
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))             # softmax bwd; masked p = 0
    dq = (ds @ k) * scale
    dk = (ds.transpose(0, 1, 3, 2) @ q) * scale
    dqkv = np.stack([dq, dk, dv], axis=0).transpose(1, 3, 0, 2, 4).reshape(B, N, 3 * D)
    dh, dwqkv, dbqkv = linear_bwd(h, wqkv, dqkv)
    return dh, dwqkv, dbqkv, dwproj, dbproj


# ---------------------------------------------------------------- encoder

def block_fwd(P, i, x, heads, mask, eps):
    g = lambda n: P[f"{i}.{n}"]  # noqa: E731
    n1, c_n1 = layernorm_fwd(x, g("norm1.weight"), g("norm1.bias"), eps)
    a, c_attn = attention_fwd(n1, g("attn.qkv.weight"), g("attn.qkv.bias"),
                              g("attn.proj.weight"), g("attn.proj.bias"), heads, mask)
    h = x + a
    n2, c_n2 = layernorm_fwd(h, g("norm2.weight"), g("norm2.bias"), eps)
    f1 = linear_fwd(n2, g("mlp.fc1.weight"), g("mlp.fc1.bias"))
    act = gelu_fwd(f1)
    f2 = linear_fwd(act, g("mlp.fc2.weight"), g("mlp.fc2.bias"))
    return h + f2, (c_n1, c_attn, c_n2, n2, f1, act)


def block_bwd(P, i, cache, dy, grads):
    g = lambda n: P[f"{i}.{n}"]  # noqa: E731
    c_n1, c_attn, c_n2, n2, f1, act = cache
    # MLP branch
    dact, grads[f"{i}.mlp.fc2.weight"], grads[f"{i}.mlp.fc2.bias"] = linear_bwd(act, g("mlp.fc2.weight"), dy)
    df1 = gelu_bwd(f1, dact)
    dn2, grads[f"{i}.mlp.fc1.weight"], grads[f"{i}.mlp.fc1.bias"] = linear_bwd(n2, g("mlp.fc1.weight"), df1)
    dh_ln, grads[f"{i}.norm2.weight"], grads[f"{i}.norm2.bias"] = layernorm_bwd(c_n2, dn2)
    dh = dy + dh_ln
    # attention branch
    dn1, dwqkv, dbqkv, dwproj, dbproj = attention_bwd(c_attn, g("attn.qkv.weight"), g("attn.proj.weight"), dh)
    grads[f"{i}.attn.qkv.weight"], grads[f"{i}.attn.qkv.bias"] = dwqkv, dbqkv
    grads[f"{i}.attn.proj.weight"], grads[f"{i}.attn.proj.bias"] = dwproj, dbproj
    dx_ln, grads[f"{i}.norm1.weight"], grads[f"{i}.norm1.bias"] = layernorm_bwd(c_n1, dn1)
    return dh + dx_ln


def encoder_forward(params, x, heads, mask=None, eps=1e-5):
    """Forward pass in float64. Returns (y, cache for encoder_backward)."""
    P = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    x = np.asarray(x, dtype=np.float64)
    if mask is not None:
        mask = np.asarray(mask)
    caches = []
    for i in range(depth_of(P)):
        x, c = block_fwd(P, i, x, heads, mask, eps)
        caches.append(c)
    return x, (P, caches)


def encoder_backward(cache, dy):
    """Gradients of sum(y * dy). Returns (dx, {param name: grad})."""
    P, caches = cache
    grads = {}
    d = np.asarray(dy, dtype=np.float64)
    for i in reversed(range(len(caches))):
        d = block_bwd(P, i, caches[i], d, grads)
    return d, grads


# ---------------------------------------------------------------- self-test

def _finite_difference_check(seed=0):
    """Central differences on a tiny encoder; numpy only."""
    rng = np.random.default_rng(seed)
    B, N, D, H, depth = 2, 5, 8, 2, 2
    P = {k: v.astype(np.float64) for k, v in init_params(rng, D, depth).items()}
    x = rng.standard_normal((B, N, D))
    dy = rng.standard_normal((B, N, D))
    worst = 0.0
    for mask in (None, np.array([[1] * N, [1] * (N - 2) + [0, 0]], dtype=np.float64)):
        y, cache = encoder_forward(P, x, H, mask)
        dx, grads = encoder_backward(cache, dy)
        loss = lambda P_, x_: float((encoder_forward(P_, x_, H, mask)[0] * dy).sum())  # noqa: E731
        h = 1e-6
        for _ in range(6):  # a few random entries of dx
            idx = tuple(rng.integers(0, s) for s in x.shape)
            xp, xm = x.copy(), x.copy()
            xp[idx] += h
            xm[idx] -= h
            worst = max(worst, abs((loss(P, xp) - loss(P, xm)) / (2 * h) - dx[idx]))
        for name in P:
            idx = tuple(rng.integers(0, s) for s in P[name].shape)
            Pp = dict(P); Pp[name] = P[name].copy(); Pp[name][idx] += h
            Pm = dict(P); Pm[name] = P[name].copy(); Pm[name][idx] -= h
            num = (loss(Pp, x) - loss(Pm, x)) / (2 * h)
            worst = max(worst, abs(num - grads[name][idx]))
    return worst


if __name__ == "__main__":
    err = _finite_difference_check()
    print(f"finite-difference check: max abs error {err:.3e}")
    raise SystemExit(0 if err < 1e-6 else 1)
