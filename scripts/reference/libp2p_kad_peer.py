#!/usr/bin/env python3
"""py-libp2p 0.8.1 Kademlia DHT peer for MurmurP2P's interop tests (KademliaInteropTests.swift).

Noise + yamux over TCP on 127.0.0.1 only; serves /ipfs/kad/1.0.0 (KadDHT in server mode,
default validators: /pk/ and /ipns/, other keys accepted because strict validation is off).

  libp2p_kad_peer.py [--bootstrap MULTIADDR ...] [--put KEY VALUE] [--provide HEX]
                     [--get KEY] [--find-providers HEX] [--find-peer ID]
                     [--timeout S] [--linger S]

Prints "PEER <id>" and "ADDR <multiaddr>/p2p/<id>", then in this order:
  - connects to each --bootstrap peer and adds it to the routing table ("BOOTSTRAPPED <id>");
  - --put: put_value(KEY, VALUE as UTF-8) ("PUT ok");
  - --provide: provide(HEX multihash) ("PROVIDED ok|failed");
  - --get: get_value(KEY), retried every 0.5 s until found ("GOT <value as UTF-8>");
  - --find-providers: find_providers(HEX), retried until one is found ("PROVIDERS <id>,<id>...");
  - --find-peer: find_peer(ID), retried until found ("FOUND_PEER <multiaddr>,...").
Then "DONE", and it keeps serving the DHT for --linger seconds. Everything before DONE must
finish within --timeout seconds. Any failure exits non-zero with the reason on stderr.
"""
import argparse
import logging
import sys

import multiaddr
import trio

from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.kad_dht.kad_dht import DHTMode, KadDHT
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.tools.anyio_service import background_trio_service


def say(line: str) -> None:
    print(line, flush=True)


async def retry(what: str, attempt):
    """Runs `attempt` every 0.5 s until it returns something truthy."""
    while True:
        try:
            result = await attempt()
            if result:
                return result
        except Exception as e:  # keep trying until the overall timeout
            print(f"{what}: {e!r}", file=sys.stderr, flush=True)
        await trio.sleep(0.5)


async def run(args) -> None:
    key_pair = create_new_key_pair()
    listen = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
    host = new_host(key_pair=key_pair, listen_addrs=[listen])
    async with host.run(listen_addrs=[listen]):
        dht = KadDHT(host, DHTMode.SERVER)
        async with background_trio_service(dht):
            say(f"PEER {host.get_id()}")
            for addr in host.get_addrs():
                say(f"ADDR {addr}")
            with trio.fail_after(args.timeout):
                for b in args.bootstrap:
                    info = info_from_p2p_addr(multiaddr.Multiaddr(b))
                    host.get_peerstore().add_addrs(info.peer_id, info.addrs, 3600)
                    await host.connect(info)
                    await dht.routing_table.add_peer(info)
                    say(f"BOOTSTRAPPED {info.peer_id}")
                if args.put:
                    key, value = args.put
                    await dht.put_value(key, value.encode())
                    say("PUT ok")
                if args.provide:
                    ok = await dht.provide(args.provide)
                    say(f"PROVIDED {'ok' if ok else 'failed'}")
                if args.get:
                    value = await retry("get_value", lambda: dht.get_value(args.get))
                    say(f"GOT {value.decode()}")
                if args.find_providers:
                    infos = await retry("find_providers", lambda: dht.find_providers(args.find_providers, 20))
                    say(f"PROVIDERS {','.join(str(i.peer_id) for i in infos)}")
                if args.find_peer:
                    target = ID.from_base58(args.find_peer)
                    info = await retry("find_peer", lambda: dht.find_peer(target))
                    say(f"FOUND_PEER {','.join(str(a) for a in info.addrs)}")
            say("DONE")
            await trio.sleep(args.linger)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", action="append", default=[])
    ap.add_argument("--put", nargs=2, metavar=("KEY", "VALUE"))
    ap.add_argument("--provide", metavar="HEX")
    ap.add_argument("--get", metavar="KEY")
    ap.add_argument("--find-providers", metavar="HEX")
    ap.add_argument("--find-peer", metavar="ID")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--linger", type=float, default=120)
    args = ap.parse_args()
    try:
        trio.run(run, args)
    except Exception as e:
        print(f"libp2p_kad_peer.py failed: {e!r}", file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
