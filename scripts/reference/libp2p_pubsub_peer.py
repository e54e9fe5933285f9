#!/usr/bin/env python3
"""py-libp2p 0.8.1 gossipsub reference peer for MurmurP2P's pub/sub interop tests.

Noise + yamux over TCP on 127.0.0.1, GossipSub on /meshsub/1.1.0 with heartbeat_interval=1
(py-libp2p's default is 120 s) and strict signing, as in Tests/MurmurP2PTests/GossipsubInteropTests;
with --router floodsub, FloodSub on /floodsub/1.0.0 instead.

  libp2p_pubsub_peer.py listen --topic T [--publish MSG] [--reply PREFIX] [--count N] [--timeout S]
      prints "PEER <id>" and "ADDR <multiaddr>/p2p/<id>", subscribes to T, then works as below.
  libp2p_pubsub_peer.py dial MULTIADDR --topic T [same options]
      connects to MULTIADDR first, prints "PEER <id>" and "CONNECTED <remote id>".

Both: prints "MESH <id>" when a remote peer joins our mesh for T (gossipsub) or announces T
(floodsub); with --publish, publishes MSG once the first remote peer is there ("PUBLISHED <n>"); for every message received
from another peer prints "RECV from=<id> seqno=<hex> topic=<t> data=<utf-8>", and with --reply
publishes PREFIX + data once per received message; exits 0 after --count received messages
(0: run until --timeout, then exit 0). Failures exit non-zero with the reason on stderr.
"""
import argparse
import contextlib
import logging
import sys

import multiaddr
import trio

from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.pubsub.floodsub import PROTOCOL_ID as FLOODSUB_ID, FloodSub
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pubsub import Pubsub
from libp2p.tools.anyio_service import background_trio_service


def say(line: str) -> None:
    print(line, flush=True)


async def watch_mesh(pubsub, router, topic, host_id, first_peer: trio.Event) -> None:
    seen = set()
    while True:
        if isinstance(router, GossipSub):
            peers = router.mesh.get(topic, set())
        else:
            peers = pubsub.peer_topics.get(topic, set())
        for peer in list(peers):
            if peer not in seen and peer != host_id:
                seen.add(peer)
                say(f"MESH {peer}")
                first_peer.set()
        await trio.sleep(0.1)


async def run(args) -> None:
    key_pair = create_new_key_pair()
    listen = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
    host = new_host(key_pair=key_pair, listen_addrs=[listen])
    if args.router == "floodsub":
        router = FloodSub(protocols=[FLOODSUB_ID])
    else:
        router = GossipSub(
            protocols=[PROTOCOL_ID_V11],
            degree=6,
            degree_low=4,
            degree_high=12,
            heartbeat_initial_delay=0.1,
            heartbeat_interval=1,
        )
    pubsub = Pubsub(host, router, strict_signing=True)
    router_service = background_trio_service(router) if isinstance(router, GossipSub) else contextlib.nullcontext()
    async with host.run(listen_addrs=[listen]), trio.open_nursery() as nursery:
        async with background_trio_service(pubsub), router_service:
            await pubsub.wait_until_ready()
            say(f"PEER {host.get_id()}")
            if args.mode == "listen":
                for addr in host.get_addrs():
                    say(f"ADDR {addr}")
            subscription = await pubsub.subscribe(args.topic)
            if args.mode == "dial":
                info = info_from_p2p_addr(multiaddr.Multiaddr(args.address))
                with trio.fail_after(args.timeout):
                    await host.connect(info)
                say(f"CONNECTED {info.peer_id}")
            first_peer = trio.Event()
            nursery.start_soon(watch_mesh, pubsub, router, args.topic, host.get_id(), first_peer)

            async def publish_when_meshed() -> None:
                await first_peer.wait()
                await pubsub.publish(args.topic, args.publish.encode())
                say(f"PUBLISHED {pubsub.counter}")

            if args.publish is not None:
                nursery.start_soon(publish_when_meshed)
            received = 0
            with trio.move_on_after(args.timeout) as scope:
                while args.count == 0 or received < args.count:
                    msg = await subscription.get()
                    if msg.from_id == host.get_id().to_bytes():
                        continue
                    from libp2p.peer.id import ID

                    text = msg.data.decode("utf-8", errors="replace")
                    say(f"RECV from={ID(msg.from_id)} seqno={msg.seqno.hex()} topic={','.join(msg.topicIDs)} data={text}")
                    received += 1
                    if args.reply is not None:
                        await pubsub.publish(args.topic, (args.reply + text).encode())
                        say("REPLIED")
            if scope.cancelled_caught and args.count != 0:
                raise RuntimeError(f"received {received} of {args.count} messages within {args.timeout} s")
            # Let the last reply leave before the connection closes.
            await trio.sleep(args.linger)
            nursery.cancel_scope.cancel()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    for name in ("listen", "dial"):
        p = sub.add_parser(name)
        if name == "dial":
            p.add_argument("address")
        p.add_argument("--topic", required=True)
        p.add_argument("--router", choices=["gossipsub", "floodsub"], default="gossipsub")
        p.add_argument("--publish")
        p.add_argument("--reply")
        p.add_argument("--count", type=int, default=0)
        p.add_argument("--timeout", type=float, default=60)
        p.add_argument("--linger", type=float, default=2)
    args = ap.parse_args()
    try:
        trio.run(run, args)
    except Exception as e:
        print(f"libp2p_pubsub_peer.py {args.mode} failed: {e!r}", file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
