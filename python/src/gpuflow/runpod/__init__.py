"""Runs a handler file written for RunPod Serverless, unmodified, as a gpuflow job type.

`load(path, type)` executes the file as `python handler.py` would (`__name__ == "__main__"`, its directory first on
`sys.path`, `sys.argv == [path]`), with `runpod.serverless.start` replaced so that the config the file passes is
captured instead of starting RunPod's worker loop. The real `runpod` package is used when it is installed (its
other modules keep working); otherwise a minimal stand-in (`gpuflow/runpod/standin/runpod`) is put on the path.
"""

from gpuflow.runpod.loader import RUNPOD_FIELDS_KEY, load

__all__ = ["RUNPOD_FIELDS_KEY", "load"]
