"""The smallest Python job: `gpuflow-worker examples/jobs/python/hello.py`."""

from pydantic import BaseModel

import gpuflow


class Hello(BaseModel):
    name: str
    times: int = 1


@gpuflow.job("hello-py", input=Hello)
def hello(input: Hello, ctx: gpuflow.Context) -> dict[str, str]:
    ctx.progress(50, "greeting")
    ctx.log("greeting", input.name)
    return {"greeting": " ".join([f"hello {input.name}"] * input.times)}
