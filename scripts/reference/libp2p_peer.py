#!/usr/bin/env python3
"""py-libp2p 0.8.1 reference peer for MurmurP2P's interop tests (Tests/MurmurP2PTests).

Noise + yamux over TCP on 127.0.0.1 only. Serves /ipfs/ping/1.0.0, /ipfs/id/1.0.0 (py-libp2p's
defaults), /ipfs/id/push/1.0.0 and /murmur/echo/1.0.0 (writes back every byte until end of
stream, then closes).

  libp2p_peer.py listen [--timeout S]
      prints "PEER <id>" and "ADDR <multiaddr>/p2p/<id>", then "REMOTE <id>" for each peer
      that opens an echo stream and "PUSH from=<id> agent=... protocols=N addrs=A,B" for each
      identify push (parsed, then given to py-libp2p's peerstore update); exits after
      --timeout seconds.
  libp2p_peer.py dial MULTIADDR [--streams N] [--max-size BYTES] [--seed N] [--timeout S]
      connects, prints "PEER <own id>" and "REMOTE <id>", pings 3 times, runs identify
      ("IDENTIFY agent=... protocols=..."), pushes its identify with py-libp2p's
      push_identify_to_peer ("PUSHED ok=True"), echoes random payloads (sizes up to
      --max-size, one of exactly --max-size) on N concurrent streams, prints
      "ECHO streams=N bytes=B", exits 0.
Every failure exits non-zero with the reason on stderr. For py-libp2p's own debug log set
e.g. LIBP2P_DEBUG=libp2p.stream_muxer:DEBUG LIBP2P_DEBUG_FILE=/tmp/py.log (the tests pass the
environment through).
"""
import argparse
import logging
import random
import sys

import multiaddr
import trio

from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.custom_types import TProtocol
from libp2p.host.ping import ID as PING_ID, perform_ping_roundtrip
from libp2p.identity.identify.identify import ID as IDENTIFY_ID, parse_identify_response
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.identity.identify_push.identify_push import ID_PUSH, push_identify_to_peer
from libp2p.identity.update import update_peerstore_from_identify
from libp2p.utils.varint import read_length_prefixed_protobuf
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.peerinfo import info_from_p2p_addr

ECHO_ID = TProtocol("/murmur/echo/1.0.0")
CHUNK = 1 << 16


def say(line: str) -> None:
    print(line, flush=True)


async def read_all(stream, limit: int) -> bytes:
    out = bytearray()
    while True:
        try:
            chunk = await stream.read(CHUNK)
        except StreamEOF:
            break
        if not chunk:
            break
        out += chunk
        if len(out) > limit:
            raise RuntimeError(f"stream sent more than {limit} bytes")
    return bytes(out)


async def echo_handler(stream) -> None:
    say(f"REMOTE {stream.muxed_conn.peer_id}")
    try:
        while True:
            try:
                chunk = await stream.read(CHUNK)
            except StreamEOF:
                break
            if not chunk:
                break
            await stream.write(chunk)
        await stream.close_write()
    except Exception as e:  # keep serving other streams
        print(f"echo handler: {e!r}", file=sys.stderr, flush=True)
        await stream.reset()


async def echo_once(host, peer_id, payload: bytes) -> None:
    stream = await host.new_stream(peer_id, [ECHO_ID])
    received = bytearray()

    async def reader() -> None:
        received.extend(await read_all(stream, len(payload) + 1))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        for i in range(0, len(payload), CHUNK):
            await stream.write(payload[i:i + CHUNK])
        await stream.close_write()
    if bytes(received) != payload:
        raise RuntimeError(f"echo mismatch: sent {len(payload)} bytes, got {len(received)}")


def push_handler_for(host):
    async def handle(stream) -> None:
        peer_id = stream.muxed_conn.peer_id
        try:
            with trio.fail_after(10):
                data = await read_length_prefixed_protobuf(stream, True)
            msg = Identify()
            msg.ParseFromString(data)
            await update_peerstore_from_identify(host.get_peerstore(), peer_id, msg)
            addrs = ",".join(str(multiaddr.Multiaddr(a)) for a in msg.listen_addrs)
            say(f"PUSH from={peer_id} agent={msg.agent_version} protocols={len(msg.protocols)} addrs={addrs}")
        except Exception as e:
            print(f"push handler: {e!r}", file=sys.stderr, flush=True)
        finally:
            await stream.close()
    return handle


async def run_listen(args) -> None:
    key_pair = create_new_key_pair()
    listen = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
    host = new_host(key_pair=key_pair, listen_addrs=[listen])
    async with host.run(listen_addrs=[listen]):
        host.set_stream_handler(ECHO_ID, echo_handler)
        host.set_stream_handler(ID_PUSH, push_handler_for(host))
        say(f"PEER {host.get_id()}")
        for addr in host.get_addrs():
            say(f"ADDR {addr}")
        await trio.sleep(args.timeout)


async def run_dial(args) -> None:
    key_pair = create_new_key_pair()
    listen = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
    host = new_host(key_pair=key_pair, listen_addrs=[listen])
    rng = random.Random(args.seed)
    async with host.run(listen_addrs=[listen]):
        say(f"PEER {host.get_id()}")
        info = info_from_p2p_addr(multiaddr.Multiaddr(args.address))
        with trio.fail_after(args.timeout):
            await host.connect(info)
            say(f"REMOTE {info.peer_id}")
            stream = await host.new_stream(info.peer_id, [PING_ID])
            for _ in range(3):
                rtt = await perform_ping_roundtrip(stream)
                say(f"PING rtt_ms={rtt}")
            await stream.close()
            stream = await host.new_stream(info.peer_id, [IDENTIFY_ID])
            raw = await read_all(stream, 1 << 16)
            ident = parse_identify_response(raw)
            say(f"IDENTIFY agent={ident.agent_version} protocols={','.join(ident.protocols)}")
            say(f"PUSHED ok={await push_identify_to_peer(host, info.peer_id)}")
            sizes = [args.max_size] + [rng.randint(0, args.max_size) for _ in range(args.streams - 1)]
            payloads = [rng.randbytes(n) for n in sizes]
            async with trio.open_nursery() as nursery:
                for p in payloads:
                    nursery.start_soon(echo_once, host, info.peer_id, p)
            say(f"ECHO streams={len(payloads)} bytes={sum(sizes)}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    lp = sub.add_parser("listen")
    lp.add_argument("--timeout", type=float, default=120)
    dp = sub.add_parser("dial")
    dp.add_argument("address")
    dp.add_argument("--streams", type=int, default=100)
    dp.add_argument("--max-size", type=int, default=1 << 20)
    dp.add_argument("--seed", type=int, default=1)
    dp.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    try:
        trio.run(run_listen if args.mode == "listen" else run_dial, args)
    except Exception as e:
        print(f"libp2p_peer.py {args.mode} failed: {e!r}", file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
