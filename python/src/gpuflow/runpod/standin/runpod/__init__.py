# mypy: disable-error-code="import-untyped"
"""gpuflow's stand-in for the `runpod` package, used by `gpuflow-worker --runpod` only when runpod is not installed.

It has what RunPod handler files commonly import: `runpod.serverless.start`, `runpod.serverless.progress_update`,
`runpod.serverless.utils.rp_cleanup.clean`, `runpod.serverless.utils.rp_validator.validate`, and
`runpod.RunPodLogger` (also `runpod.serverless.modules.rp_logger.RunPodLogger`). Nothing that talks to RunPod.
"""

from runpod import serverless
from runpod.serverless.modules.rp_logger import RunPodLogger

__version__ = "0.0.0+gpuflow-standin"
__all__ = ["RunPodLogger", "__version__", "serverless"]
