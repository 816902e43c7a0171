"""The remote participant of the benchmark: a small HTTP service that answers after a delay.

Run by the benchmark as a subprocess (`python -m bench.participant PORT`). One asyncio
loop holds thousands of open requests at once, so the service is never what limits the steps in
flight. Each `POST /step` carries an idempotency key: the first request with a key applies it,
a repeat returns the same reply without applying it again. `POST /config` sets the delay and
resets the counters; `GET /stats` returns them (requests, keys applied, most requests in flight).
"""

from __future__ import annotations

import asyncio
import json
import sys

state = {"delay": 0.05, "requests": 0, "applied": 0, "in_flight": 0, "max_in_flight": 0}
replies: dict[str, dict] = {}


async def step(body: dict) -> dict:
    state["in_flight"] += 1
    state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
    try:
        await asyncio.sleep(state["delay"])
    finally:
        state["in_flight"] -= 1
    key = body["key"]
    if key not in replies:
        state["applied"] += 1
        replies[key] = {"ref": key, "n": state["applied"]}
    return replies[key]


async def answer(method: str, path: str, body: dict) -> dict:
    if method == "POST" and path == "/step":
        state["requests"] += 1
        return await step(body)
    if method == "POST" and path == "/config":
        state.update(delay=float(body.get("delay", state["delay"])), requests=0, applied=0, max_in_flight=0)
        replies.clear()
    return {k: v for k, v in state.items()}


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while request := await reader.readline():
            method, path, _ = request.decode().split(" ", 2)
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode().partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = json.loads(await reader.readexactly(length)) if length else {}
            reply = json.dumps(await answer(method, path, body)).encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(reply)}\r\n\r\n"
            writer.write(head.encode() + reply)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=4096)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
