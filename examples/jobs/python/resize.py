"""A CPU stand-in for a GPU job that does real work: it renders an image with numpy, resizes it in steps with
area averaging (box filter), reports progress per step, checkpoints, and stores the result as a PNG artifact.

    gpuflow-worker examples/jobs/python/resize.py
    gpuflow-worker test examples/jobs/python/resize.py --input '{"size": 512, "steps": 3}'
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

import gpuflow


class Resize(BaseModel):
    size: int = Field(512, ge=16, le=4096, description="side of the generated square image, pixels")
    steps: int = Field(3, ge=1, le=6, description="halvings: the output is size / 2**steps")


def load() -> dict[str, Any]:
    # The cold start: a colour lookup table, built once per worker process as a model would be loaded.
    ramp = np.linspace(0, 1, 256)
    palette = np.stack([ramp**0.5, ramp, ramp**2], axis=1) * 255
    return {"palette": palette.astype(np.uint8)}


def render(size: int, palette: np.ndarray) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / size
    field = np.sin(12 * x) * np.cos(9 * y) + np.sin(20 * (x * x + y * y))
    index = ((field - field.min()) / (np.ptp(field) or 1) * 255).astype(np.uint8)
    return palette[index]


def halve(image: np.ndarray) -> np.ndarray:
    """Area-averaging 2x downscale."""
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    cropped = image[:height, :width].astype(np.float32)
    return cropped.reshape(height // 2, 2, width // 2, 2, -1).mean(axis=(1, 3)).astype(np.uint8)


@gpuflow.job("resize-py", input=Resize, setup=load)
def resize(input: Resize, ctx: gpuflow.Context) -> dict[str, Any]:
    ctx.progress(5, "rendering")
    image = render(input.size, ctx.resources["palette"])
    done = int((ctx.resume_from or {}).get("step", 0))
    for step in range(input.steps):
        if ctx.cancelled:
            raise gpuflow.JobError("cancelled", retryable=False)
        image = halve(image)
        if step >= done:
            ctx.checkpoint({"step": step + 1})
        ctx.progress(5 + 90 * (step + 1) / input.steps, f"step {step + 1}/{input.steps}: {image.shape[1]}px")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    artifact = ctx.artifact("resized.png", buffer.getvalue(), "image/png")
    ctx.progress(100, "stored")
    return {"width": int(image.shape[1]), "height": int(image.shape[0]), "png": artifact}
