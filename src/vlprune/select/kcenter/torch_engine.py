"""The torch engine: the whole matrix on a torch device (a GPU, in half precision).

A GPU streams its memory 10-50x faster than a CPU socket, so the matrix is copied there once
(centred like :class:`~vlprune.select.kcenter.matrix.StreamedMatrix`, in float32, before
rounding to float16, so rows far from the origin keep their precision) and every step is a
handful of kernels: one matrix-vector product and a few length-n vector operations. The loop
never waits for the device: :meth:`TorchEngine.add` returns the next centre and its distance
as device tensors, which the driver hands back unchanged; they are copied to the host once,
in :meth:`TorchEngine.finish`, so kernel launches queue ahead of the GPU.

The product's output is float32 where torch supports it (``torch.mm(..., out_dtype=float32)``
on CUDA for float16 inputs; on the CPU float16 rows are widened chunk by chunk); otherwise
(older torch on a GPU) it is rounded to the storage dtype before the subtraction, which adds
about ``2**-11 * |y| * |c|`` of error to a squared distance (``product_output`` in the
report says which). The same code runs on the CPU (``device="cpu"``), which is how it is
tested without a GPU.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.kcenter.matrix import StreamedMatrix


def cuda_available() -> bool:
    """Whether torch sees a CUDA device, without importing torch on machines with no driver.

    Example:
        >>> isinstance(cuda_available(), bool)
        True
    """
    if "torch" not in sys.modules and not (os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi")):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _matvec(Y, dtype_name: str):
    """A function ``w -> Y @ w`` returning float32, as precisely as the device allows:
    float32 output from float16 storage where torch offers it (``out_dtype``, on CUDA), or
    chunks widened to float32 on the CPU (exact for the rounded rows); else the product is
    rounded to float16 before it is widened (older torch on a GPU)."""
    import torch

    if Y.dtype == torch.float32:
        return lambda w: torch.mv(Y, w), "float32"
    try:
        probe = torch.mm(Y[:2], Y[:1].T, out_dtype=torch.float32)
        if probe.dtype == torch.float32:
            return lambda w: torch.mm(Y, w.view(-1, 1), out_dtype=torch.float32).view(-1), "float32"
    except (TypeError, RuntimeError, NotImplementedError):
        pass
    if Y.device.type == "cpu":
        rows = max(1, (1 << 20) // max(Y.shape[1], 1))  # 4 MB of float32 at a time

        def chunked(w):
            wf = w.float()
            return torch.cat([torch.mv(Y[r:r + rows].float(), wf) for r in range(0, len(Y), rows)])
        return chunked, "float32"
    return lambda w: torch.mv(Y, w).float(), dtype_name


class TorchEngine:
    """Farthest-point state on a torch device. Implements the
    :class:`~vlprune.select.kcenter.driver.Engine` protocol; positions and distances are
    0-d device tensors between :meth:`add` calls.

    Args:
        M: the prepared host matrix (its mean and scales centre the upload).
        dtype: device storage, ``"float16"`` or ``"float32"`` (default: float16 on CUDA).
        device: torch device (default: CUDA when present, else CPU).
        progress: progress bar over the upload.

    Example:
        >>> X = np.array([[0.0, 0], [1, 0], [10, 0], [5, 0]], dtype=np.float32)
        >>> engine = TorchEngine(StreamedMatrix(X), device="cpu")
        >>> nxt, r2 = engine.add(0)
        >>> int(nxt), float(r2)
        (2, 100.0)
    """

    name = "torch"

    def __init__(self, M: StreamedMatrix, *, dtype: str | None = None, device: str | None = None,
                 progress: bool = False) -> None:
        import torch

        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if dtype is None:
            dtype = "float16" if dev.type == "cuda" else "float32"
        if dtype not in ("float16", "float32"):
            raise ConfigError(f"dtype must be 'float32' or 'float16', not {dtype!r}")
        tdtype = torch.float16 if dtype == "float16" else torch.float32
        self.torch, self.dev, self.dtype, self.n = torch, dev, dtype, M.n
        # One upload pass: rows centred on the host in float32 (as every engine centres
        # them), then rounded to the storage dtype on the device.
        Y = torch.empty((M.n, M.d), dtype=tdtype, device=dev)
        q = torch.empty(M.n, dtype=torch.float32, device=dev)
        for r0, r1, B in M.blocks(progress=progress, desc=f"upload to {dev.type}", rows=M.temp_rows):
            yb = torch.from_numpy(M._centred(B, r0, r1)).to(dev).to(tdtype)
            Y[r0:r1] = yb
            yf = yb.float()
            q[r0:r1] = (yf * yf).sum(dim=1)
        if not bool(torch.isfinite(q).all()):
            raise ConfigError("embeddings contain NaN or infinite values (or overflow float16; use dtype='float32')")
        self.Y, self.q = Y, q
        self.matvec, self.product_output = _matvec(Y, dtype)
        self.m2 = torch.full((M.n,), float("inf"), dtype=torch.float32, device=dev)
        self.steps = 0

    def warm(self, positions: np.ndarray) -> tuple[Any, Any]:
        """Start from centres already chosen; returns the farthest row from them."""
        torch = self.torch
        widx = torch.as_tensor(np.asarray(positions, dtype=np.int64), device=self.dev)
        C = self.Y.index_select(0, widx).float()
        cq = (C * C).sum(dim=1)
        rows = max(1, (64 << 20) // (4 * max(len(widx), 1)))
        for r0 in range(0, self.n, rows):
            yb = self.Y[r0:r0 + rows].float()
            d2 = self.q[r0:r0 + rows, None] + cq[None, :] - 2.0 * (yb @ C.T)
            self.m2[r0:r0 + rows] = d2.min(dim=1).values
        self.m2.index_fill_(0, widx, float("-inf"))
        cur = torch.argmax(self.m2)
        return cur, self.m2[cur].clone()

    def add(self, position) -> tuple[Any, Any]:
        torch = self.torch
        idx = torch.as_tensor(position, device=self.dev).view(1)
        w = self.Y.index_select(0, idx).view(-1)
        d2 = torch.add(self.q, self.matvec(w), alpha=-2.0)
        d2 += self.q.index_select(0, idx)
        torch.minimum(self.m2, d2, out=self.m2)
        self.m2.index_fill_(0, idx, float("-inf"))
        self.steps += 1
        cur = torch.argmax(self.m2)  # the first of equal maxima: ties go to the lowest row
        return cur, self.m2[cur].clone()  # a copy: indexing by a 0-d tensor gives a view of m2

    def finish(self, order: list, radii2: list) -> tuple[np.ndarray, np.ndarray]:
        """Copy the order and squared radii to the host (waits for the device once)."""
        torch = self.torch
        o = torch.stack([torch.as_tensor(v, device=self.dev).view(()) for v in order]) if order else \
            torch.zeros(0, dtype=torch.int64)
        r = torch.stack([torch.as_tensor(v, device=self.dev).view(()) for v in radii2]) if radii2 else \
            torch.zeros(0)
        return o.cpu().numpy().astype(np.int64), r.double().cpu().numpy()

    def report(self) -> dict[str, Any]:
        rows = self.n * self.steps
        return {"engine": self.name, "device": str(self.dev), "dtype": self.dtype, "product": "centred",
                "product_output": self.product_output, "rows_computed": rows, "rows_skipped": 0,
                "dense_steps": self.steps, "sparse_steps": 0, "fallbacks": 0}
