"""`<base>-<CONF_TYPE_SUFFIX>`: the job type a conformance handler serves under (see ../worker-impl.ts)."""

import os


def conf_type(base: str) -> str:
    suffix = os.environ.get("CONF_TYPE_SUFFIX")
    if not suffix:
        raise RuntimeError("conformance handlers need CONF_TYPE_SUFFIX in the environment")
    return f"{base}-{suffix}"
