"""The Locust side of toolkit's engine: the user every worker runs (`locust --worker -f <this file>`).

Run as a module it prints its own path, for attaching workers on other machines:
    locust --worker -f "$(python -m toolkit.validate.engines.locustfile)" --master-host MASTER

The master (locust_master.py, started by toolkit) sends work as custom messages:
- BATCH: explicit requests (prepared by toolkit's Caller); each is sent once, its reply goes back whole.
- SOAK: one request template; every user sends it with a fresh nonce until the soak's seconds are over.
Replies travel back in RESULTS messages (flushed every FLUSH_S); toolkit turns them into observations.
A worker on another machine needs toolkit installed (`pip install 'apim-ai-gateway-toolkit[load]'`).
Nothing here decides anything: status, latency, the wanted headers and the body are all it reports.
"""

if __name__ == "__main__":  # print the path before importing Locust (which monkey-patches the process)
    print(__file__)
    raise SystemExit(0)

import random  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from gevent.queue import Empty, Queue  # noqa: E402
from locust import FastHttpUser, constant, events, task  # noqa: E402
from locust.runners import WorkerRunner  # noqa: E402

from toolkit.validate.engines.error_names import transport_error_name  # noqa: E402

from toolkit.validate.traffic import nonce, with_prompt  # noqa: E402  (toolkit is installed where workers run)

BATCH, SOAK, RESULTS, SOAK_DONE = "toolkit_batch", "toolkit_soak", "toolkit_results", "toolkit_soak_done"
FLUSH_S = 0.1
IDLE_S = 0.02
MAX_BODY = 256 * 1024  # a reply body is kept for completion ids and usage; a longer one is cut


class _Worker:
    """This process's share of the work: a queue of batch items, the current soak, replies to flush."""

    def __init__(self) -> None:
        self.queue: Queue = Queue()
        self.soak: dict | None = None
        self.deadline = 0.0
        self.in_flight = 0
        self.outbox: list[dict] = []
        self.rng = random.Random()

    def start_soak(self, plan: dict) -> None:
        self.deadline = time.monotonic() + float(plan["seconds"])  # this machine's clock, not the master's
        self.soak = plan

    def next_item(self) -> dict | None:
        try:
            return self.queue.get_nowait()
        except Empty:
            pass
        plan = self.soak
        if plan is None or time.monotonic() >= self.deadline:
            return None
        body = with_prompt(plan["body"], f"{self.rng.choice(plan['prompts'])} {nonce(self.rng, plan['nonce_words'])}")
        return {"id": None, "url": plan["url"], "headers": plan["headers"], "body": body,
                "wanted": plan["wanted"], "keep_body": False}


WORK = _Worker()


@events.init.add_listener

def _on_init(environment, **_kwargs):  # type: ignore[no-untyped-def]
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        return
    runner.register_message(BATCH, lambda environment, msg, **kw: [WORK.queue.put(i) for i in msg.data["items"]])
    runner.register_message(SOAK, lambda environment, msg, **kw: WORK.start_soak(msg.data))
    gevent.spawn(_flush, runner)


def _flush(runner: WorkerRunner) -> None:
    """Send replies to the master in batches; say when this worker's soak is over and nothing is in flight."""
    while True:
        gevent.sleep(FLUSH_S)
        if WORK.outbox:
            replies, WORK.outbox = WORK.outbox, []
            runner.send_message(RESULTS, {"replies": replies})
        if WORK.soak is not None and time.monotonic() >= WORK.deadline and WORK.in_flight == 0 and not WORK.outbox:
            WORK.soak = None
            runner.send_message(SOAK_DONE, {})


class GatewayUser(FastHttpUser):
    """Sends whatever this worker was given; idles briefly when there is nothing to send."""

    host = "http://127.0.0.1"  # unused: every request carries an absolute URL
    wait_time = constant(0)

    @task
    def work(self) -> None:
        item = WORK.next_item()
        if item is None:
            gevent.sleep(IDLE_S)
            return
        WORK.in_flight += 1
        try:
            reply = self._send(item)  # before naming the outbox: _flush may swap it while this waits
            WORK.outbox.append(reply)
        finally:
            WORK.in_flight -= 1

    def _send(self, item: dict) -> dict:
        started_wall, started = time.time(), time.perf_counter()
        status, headers, body, error = 0, {}, "", None
        try:
            with self.client.post(item["url"], json=item["body"], headers=item["headers"], name="chat",
                                  catch_response=True) as response:
                status = response.status_code or 0
                if status:
                    headers = {h: response.headers[h] for h in item["wanted"] if response.headers.get(h) is not None}
                    if item["keep_body"]:
                        body = (response.content or b"")[:MAX_BODY].decode("utf-8", "replace")
                    response.success() if 200 <= status < 300 else response.failure(f"HTTP {status}")
                else:
                    error = transport_error_name(response.error) if response.error else "NoResponse"
                    response.failure(error)
        except Exception as exc:  # noqa: BLE001 - any transport failure is a reply with status 0
            error = transport_error_name(exc)
        return {"id": item["id"], "t": started_wall, "ms": (time.perf_counter() - started) * 1000,
                "status": status, "headers": headers, "body": body, "error": error}
