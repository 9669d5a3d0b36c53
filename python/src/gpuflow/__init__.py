"""gpuflow job handlers in Python::

    import gpuflow

    @gpuflow.job("upscale", input=Upscale, setup=load)
    def upscale(input: Upscale, ctx: gpuflow.Context) -> dict:
        ctx.progress(10, "downloading")
        ...

Served by ``gpuflow-worker handlers.py``; tried locally with ``gpuflow-worker test handlers.py --type upscale``.
"""

from .batch import BatchContext
from .context import Context
from .errors import JobError
from .job import Batch, JobDefinition, job
from .loader import load_modules

__version__ = "0.1.0"
__all__ = [
    "Batch",
    "BatchContext",
    "Context",
    "JobDefinition",
    "JobError",
    "__version__",
    "job",
    "load_modules",
]
