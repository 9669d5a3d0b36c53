"""`runpod.serverless.modules` of gpuflow's stand-in: only `rp_logger`."""
