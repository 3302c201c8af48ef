"""Farthest-point with the whole matrix on a torch device (a GPU, in half precision).

A GPU streams its memory 10-50x faster than a CPU socket, so the matrix is copied there once
(centred, like :class:`~vlprune.select.kcenter_stream.StreamedMatrix`, before rounding to
float16, so rows far from the origin keep their precision) and every step is a handful of
kernels: one matrix-vector product and a few length-n vector operations. The loop never
waits for the device: the current centre stays a device tensor, the order and radii are
written into device tensors and copied back once at the end, so kernel launches queue ahead
of the GPU.

The product's output is float32 where torch supports it (``torch.mm(..., out_dtype=float32)``
on CUDA for float16 inputs); otherwise it is rounded to the storage dtype before the
subtraction, which adds about ``2**-11 * |x| * |c|`` of error to a squared distance. The same
code runs on the CPU (``device="cpu"``), which is how it is tested without a GPU.
"""

from __future__ import annotations

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.kcenter_stream import StreamedMatrix


def cuda_available() -> bool:
    """Whether torch sees a CUDA device, without importing torch on machines with no driver.

    Example:
        >>> isinstance(cuda_available(), bool)
        True
    """
    import os
    import shutil
    import sys

    if "torch" not in sys.modules and not (os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi")):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _matvec(Y, dtype_name: str):
    """A function ``w -> Y @ w`` returning float32, as precisely as the device allows."""
    import torch

    if Y.dtype != torch.float32:
        try:
            probe = torch.mm(Y[:2], Y[:1].T, out_dtype=torch.float32)
            if probe.dtype == torch.float32:
                return lambda w: torch.mm(Y, w.view(-1, 1), out_dtype=torch.float32).view(-1), "float32"
        except (TypeError, RuntimeError, NotImplementedError):
            pass
        return lambda w: torch.mv(Y, w).float(), dtype_name
    return lambda w: torch.mv(Y, w), "float32"


def torch_farthest_point(
    X: np.ndarray,
    k: int,
    *,
    start: str | int,
    first: int | None,
    metric: str = "l2",
    warm: np.ndarray | None = None,
    dtype: str | None = None,
    device: str | None = None,
    block_rows: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Greedy farthest-point order on a torch device. Returns ``(order, squared radii, info)``;
    see :func:`vlprune.select.kcenter.farthest_point_order` for the arguments (``first`` is
    the resolved start position, or None for ``start="mean"``).

    Example:
        >>> X = np.array([[0.0, 0], [1, 0], [10, 0], [5, 0]], dtype=np.float32)
        >>> torch_farthest_point(X, 3, start=0, first=0, device="cpu")[0].tolist()
        [0, 2, 3]
    """
    import torch

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dtype is None:
        dtype = "float16" if dev.type == "cuda" else "float32"
    if dtype not in ("float16", "float32"):
        raise ConfigError(f"dtype must be 'float32' or 'float16', not {dtype!r}")
    tdtype = torch.float16 if dtype == "float16" else torch.float32

    # Mean and scales on the host (two streamed passes), then one upload pass.
    M = StreamedMatrix(X, metric=metric, block_rows=block_rows, progress=progress, norms=False)
    n, d = M.n, M.d
    Y = torch.empty((n, d), dtype=tdtype, device=dev)
    q = torch.empty(n, dtype=torch.float32, device=dev)
    mu = torch.from_numpy(M.mu).to(dev)
    for r0, r1, B in M.blocks(progress=progress, desc=f"upload to {dev.type}", rows=M.temp_rows):
        yb = torch.from_numpy(B).to(dev, torch.float32)
        if M.scale is not None:
            yb = yb * torch.from_numpy(M.scale[r0:r1]).to(dev)[:, None]
        yb = (yb - mu).to(tdtype)
        Y[r0:r1] = yb
        yf = yb.float()
        q[r0:r1] = (yf * yf).sum(dim=1)
    if not bool(torch.isfinite(q).all()):
        raise ConfigError("embeddings contain NaN or infinite values (or overflow float16; use dtype='float32')")
    matvec, out_precision = _matvec(Y, dtype)

    m2 = torch.full((n,), float("inf"), dtype=torch.float32, device=dev)
    if warm is not None and len(warm):
        widx = torch.as_tensor(np.asarray(warm, dtype=np.int64), device=dev)
        C = Y.index_select(0, widx).float()
        cq = (C * C).sum(dim=1)
        rows = max(1, (64 << 20) // (4 * max(len(widx), 1)))
        for r0 in range(0, n, rows):
            yb = Y[r0:r0 + rows].float()
            d2 = q[r0:r0 + rows, None] + cq[None, :] - 2.0 * (yb @ C.T)
            m2[r0:r0 + rows] = d2.min(dim=1).values
        m2.index_fill_(0, widx, float("-inf"))
        cur = m2.argmax()
    elif first is None:  # start="mean": the row nearest the mean is the one with the smallest q
        cur = q.argmin()
    else:
        cur = torch.tensor(int(first), device=dev)

    import time

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    t_loop = time.perf_counter()
    order = torch.empty(k, dtype=torch.int64, device=dev)
    radii2 = torch.empty(k, dtype=torch.float32, device=dev)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=k, desc=f"farthest-point ({dev.type})", unit="pt", mininterval=0.5)
    with torch.no_grad():
        for t in range(k):
            order[t] = cur
            idx = cur.view(1)
            w = Y.index_select(0, idx).view(-1)
            d2 = torch.add(q, matvec(w), alpha=-2.0)
            d2 += q.index_select(0, idx)
            torch.minimum(m2, d2, out=m2)
            m2.index_fill_(0, idx, float("-inf"))
            val, cur = m2.max(dim=0)
            radii2[t] = val
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    order_np, radii_np = order.cpu().numpy(), radii2.double().cpu().numpy()  # waits for the device
    info = {"device": str(dev), "dtype": dtype, "product_output": out_precision,
            "select_s": time.perf_counter() - t_loop}
    return order_np, radii_np, info
