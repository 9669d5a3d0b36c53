# mypy: disable-error-code="import-untyped"
"""`runpod.serverless.utils` of gpuflow's stand-in: `rp_cleanup` and `rp_validator` (no download/upload helpers)."""

from runpod.serverless.utils import rp_cleanup, rp_validator

__all__ = ["rp_cleanup", "rp_validator"]
