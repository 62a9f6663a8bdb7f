"""The Locust master toolkit starts (as a script, so Locust's monkey-patching comes before any import).

    python locust_master.py --control-port C --master-port P --workers N --users U [--bind HOST]

It connects back to toolkit on 127.0.0.1:C and speaks JSON lines:
  -> {"event": "ready", "workers": n}      once N workers are attached and U users spawned
  <- {"op": "batch", "items": [...]}        items dealt round-robin to the workers
  -> {"event": "replies", "replies": [...]} when every item has its reply (or the wait ran out)
  <- {"op": "soak", "plan": {...}}          every worker sends the template until plan["seconds"] pass
  -> {"event": "replies", "replies": [...]} when every worker has said its soak is done
  <- {"op": "quit"}
  -> {"event": "error", "message": "..."}   anything that stops the master
"""

import locust  # noqa: F401  (first: monkey-patches the process for gevent)

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.log import setup_logging  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from locustfile import BATCH, RESULTS, SOAK, SOAK_DONE, GatewayUser  # noqa: E402

REPLY_SLACK_S = 30.0  # past the workers' request timeout with no reply coming, a batch stops waiting


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("--control-port", "--master-port", "--workers", "--users"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--attach-timeout", type=float, default=60.0)
    parser.add_argument("--request-timeout", type=float, default=60.0)
    parser.add_argument("--loglevel", default="WARNING")
    args = parser.parse_args()
    setup_logging(args.loglevel)
    control = socket.create_connection(("127.0.0.1", args.control_port))
    stream = control.makefile("rwb")

    def tell(message: dict) -> None:
        stream.write(json.dumps(message).encode() + b"\n")
        stream.flush()

    env = Environment(user_classes=[GatewayUser])
    runner = env.create_master_runner(master_bind_host=args.bind, master_bind_port=args.master_port)
    replies: list[dict] = []
    done: set[str] = set()
    runner.register_message(RESULTS, lambda environment, msg, **kw: replies.extend(msg.data["replies"]))
    runner.register_message(SOAK_DONE, lambda environment, msg, **kw: done.add(msg.node_id))
    try:
        if not _wait(lambda: len(runner.clients.ready) >= args.workers, args.attach_timeout):
            tell({"event": "error", "message": f"{len(runner.clients.ready)} of {args.workers} Locust workers "
                                               f"attached within {args.attach_timeout:.0f} s"})
            return 1
        runner.start(args.users, spawn_rate=args.users)
        if not _wait(lambda: runner.user_count >= args.users, args.attach_timeout):
            tell({"event": "error", "message": f"{runner.user_count} of {args.users} Locust users started"})
            return 1
        tell({"event": "ready", "workers": len(runner.clients)})
        for line in stream:
            command = json.loads(line)
            if command["op"] == "quit":
                break
            replies.clear()
            done.clear()
            workers = [client.id for client in runner.clients.values()]
            if command["op"] == "batch":
                items = command["items"]
                for index, worker in enumerate(workers):
                    runner.send_message(BATCH, {"items": items[index::len(workers)]}, client_id=worker)
                _wait_replies(replies, len(items), args.request_timeout + REPLY_SLACK_S)
            else:
                plan = command["plan"]
                runner.send_message(SOAK, plan)
                _wait(lambda: done.issuperset(workers),
                      float(plan["seconds"]) + args.request_timeout + REPLY_SLACK_S)
            logging.getLogger(__name__).debug("toolkit: %s replies to %s", len(replies), command["op"])
            tell({"event": "replies", "replies": list(replies)})
    except Exception as exc:  # noqa: BLE001 - reported to toolkit, which owns the message and exit code
        tell({"event": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    finally:
        runner.quit()
    return 0


def _wait_replies(replies: list, expected: int, idle_s: float) -> None:
    """Until every reply is in, or none came for ``idle_s`` (a worker died: its items come back missing)."""
    seen, last = -1, time.monotonic()
    while len(replies) < expected:
        if len(replies) != seen:
            seen, last = len(replies), time.monotonic()
        elif time.monotonic() - last > idle_s:
            return
        gevent.sleep(0.05)


def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            return False
        gevent.sleep(0.05)
    return True


if __name__ == "__main__":
    sys.exit(main())
