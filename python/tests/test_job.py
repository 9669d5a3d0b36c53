import pytest
from pydantic import BaseModel

import gpuflow
from gpuflow.job import HandlerKind


class Model(BaseModel):
    x: int


def test_the_decorator_makes_a_definition_and_reads_the_handler_kind() -> None:
    @gpuflow.job("plain", input=Model)
    def plain(input: Model, ctx: gpuflow.Context) -> int:
        return input.x

    @gpuflow.job("coro")
    async def coro(input: object, ctx: gpuflow.Context) -> None:
        return None

    @gpuflow.job("gen", aggregate_stream=True)
    def gen(input: object, ctx: gpuflow.Context):  # type: ignore[no-untyped-def]
        yield 1

    @gpuflow.job("agen")
    async def agen(input: object, ctx: gpuflow.Context):  # type: ignore[no-untyped-def]
        yield 1

    assert isinstance(plain, gpuflow.JobDefinition)
    assert (plain.type, plain.input_model, plain.aggregate_stream) == ("plain", Model, False)
    assert [d.kind for d in (plain, coro, gen, agen)] == [
        HandlerKind.SYNC,
        HandlerKind.ASYNC,
        HandlerKind.GENERATOR,
        HandlerKind.ASYNC_GENERATOR,
    ]
    assert gen.aggregate_stream is True
    assert plain(Model(x=3), None) == 3


@pytest.mark.parametrize("bad", ["", "Upper", "1st", "under_score", "x" * 64])
def test_a_bad_job_type_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid job type"):
        gpuflow.job(bad)


def test_the_input_must_be_a_pydantic_model() -> None:
    with pytest.raises(TypeError, match="pydantic"):
        gpuflow.job("x", input=dict)  # type: ignore[arg-type]


def test_job_error_carries_retryable_and_type() -> None:
    err = gpuflow.JobError("bad image", retryable=False, type="BadImage")
    assert (str(err), err.retryable, err.type) == ("bad image", False, "BadImage")
    assert gpuflow.JobError("x").retryable is True and gpuflow.JobError("x").type == "JobError"
