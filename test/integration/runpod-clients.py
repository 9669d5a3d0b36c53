"""Drives gpuflow's RunPod face with the unmodified `runpod` client SDK, the way a RunPod user's code does.

Usage: python runpod-clients.py <sync|async> <base url> <api key> <endpoints as JSON>
Prints one JSON object: what each call returned (or the exception it raised), for the vitest test to check.
Only the base URL and the key differ from code written against RunPod.
"""

import asyncio
import json
import sys
import time

import runpod
from runpod.endpoint.runner import Job, RunPodClient

scenario, base, key, endpoints_json = sys.argv[1:5]
endpoints = json.loads(endpoints_json)
runpod.endpoint_url_base = base
runpod.api_key = key
out = {}


def failure(call):
    try:
        call()
    except Exception as err:  # noqa: BLE001 - the test checks which exception the SDK raised
        return {"raised": type(err).__name__, "message": str(err)[:300]}
    return {"raised": None}


def wait_status(job, wanted, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        status = job.status()
        if status in wanted:
            return status
        time.sleep(0.2)
    raise TimeoutError(f"job {job.job_id} never reached {wanted}")


def run_sync_scenario():
    echo = runpod.Endpoint(endpoints["echo"])
    job = echo.run({"input": {"message": "hi"}})
    out["run"] = {"id": job.job_id, "status": job.status()}
    out["output"] = job.output(timeout=60)
    out["run_sync"] = echo.run_sync({"input": {"message": "sync"}}, timeout=60)

    tokens = runpod.Endpoint(endpoints["tokens"]).run({"text": "one two three four five", "delayMs": 300})
    out["stream"] = list(tokens.stream())
    out["stream_status"] = tokens.status()

    sleeper = runpod.Endpoint(endpoints["sleep"]).run({"seconds": 30})
    wait_status(sleeper, ["IN_PROGRESS"])
    time.sleep(1.5)  # a progress heartbeat reaches the view
    out["in_progress"] = sleeper._fetch_job()
    out["cancel_running"] = sleeper.cancel()
    out["cancelled_running"] = wait_status(sleeper, ["CANCELLED", "COMPLETED", "FAILED"])

    idle = runpod.Endpoint(endpoints["idle"])
    queued = idle.run({"n": 0})
    out["queued_status"] = queued.status()
    out["cancel_queued"] = queued.cancel()
    out["cancelled_queued"] = wait_status(queued, ["CANCELLED"])

    purged = [idle.run({"n": 1}), idle.run({"n": 2})]
    removed, deadline = 0, time.time() + 20
    while removed < 2 and time.time() < deadline:  # visibility lists a new job within moments
        answer = idle.purge_queue()
        removed += answer["removed"]
        out["purge_answer"] = answer
    out["purged"] = removed
    out["purged_status"] = [wait_status(job, ["CANCELLED"]) for job in purged]

    out["health"] = echo.health()
    unknown = Job(endpoints["echo"], f'{endpoints["echo"]}-no-such-job', RunPodClient())
    out["unknown"] = failure(unknown.status)
    out["bad_key"] = failure(lambda: runpod.Endpoint(endpoints["echo"], api_key="not-the-key-0123456789").health())


async def run_async_scenario():
    async with runpod.http_client.AsyncClientSession() as session:
        echo = runpod.AsyncioEndpoint(endpoints["echo"], session)
        job = await echo.run({"message": "async"})
        out["run"] = {"id": job.job_id, "status": await job.status()}
        out["output"] = await job.output(timeout=60)

        tokens = await runpod.AsyncioEndpoint(endpoints["tokens"], session).run({"text": "alpha beta gamma"})
        out["stream"] = [chunk async for chunk in tokens.stream()]

        sleeper = await runpod.AsyncioEndpoint(endpoints["sleep"], session).run({"seconds": 30})
        deadline = time.time() + 60
        while await sleeper.status() != "IN_PROGRESS" and time.time() < deadline:
            await asyncio.sleep(0.2)
        out["cancel_running"] = await sleeper.cancel()

        idle = runpod.AsyncioEndpoint(endpoints["idle"], session)
        queued = await idle.run({"n": 10})
        out["queued_status"] = await queued.status()
        out["cancel_queued"] = await queued.cancel()
        await idle.run({"n": 11})
        removed, deadline = 0, time.time() + 20
        while removed < 1 and time.time() < deadline:
            removed += (await idle.purge_queue())["removed"]
        out["purged"] = removed
        out["health"] = await echo.health()
        unknown = runpod.AsyncioJob(
            endpoints["echo"], f'{endpoints["echo"]}-no-such-job', session, echo.headers
        )
        try:
            await unknown.status()
            out["unknown"] = {"raised": None}
        except Exception as err:  # noqa: BLE001 - the async SDK checks no status: a 404 body lacks "status"
            out["unknown"] = {"raised": type(err).__name__}


if scenario == "sync":
    run_sync_scenario()
else:
    asyncio.run(run_async_scenario())
print(json.dumps(out))
