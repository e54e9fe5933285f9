#!/usr/bin/env python3
"""py-libp2p 0.8.1's own figures for `murmur bench p2p` (the reference side of the comparison).

Two py-libp2p hosts in this process on 127.0.0.1, Noise + yamux over TCP (py-libp2p's defaults),
the same shape as MurmurP2P's benchmark (both hosts in one process):

  libp2p_perf.py [--megabytes N] [--handshakes N] [--write-bytes B] [--repeats R] [--timeout S]

  stream:     one yamux stream, N MiB written in writes of B bytes (default 65536, the block
              size of py-libp2p's own perf service, libp2p.perf.WRITE_BLOCK_SIZE) to a sink that
              reads 64 KiB at a time to the end and answers with the byte count; bytes/s until
              the answer arrives; R streams one after another, the best counts
              (stream_bytes_per_second; every run in stream_bytes_per_second_runs).
  handshakes: N sequential connects (TCP + multistream + Noise + yamux) of the client to the
              server, each closed before the next; only the connects are timed.
Prints one JSON object: {"stream_bytes_per_second", "stream_bytes_per_second_runs", "stream_bytes", "handshakes_per_second",
"handshakes"}. Exits non-zero with the reason on stderr on failure or after --timeout seconds.
"""
import argparse
import json
import logging
import sys
import time

import multiaddr
import trio

from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.peerinfo import PeerInfo

SINK_ID = TProtocol("/murmur/bench/sink/1.0.0")
CHUNK = 1 << 16


async def sink(stream) -> None:
    total = 0
    while True:
        try:
            chunk = await stream.read(CHUNK)
        except StreamEOF:
            break
        if not chunk:
            break
        total += len(chunk)
    await stream.write(total.to_bytes(8, "big"))
    await stream.close_write()


async def run(args) -> dict:
    listen = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
    server = new_host(key_pair=create_new_key_pair(), listen_addrs=[listen])
    client = new_host(key_pair=create_new_key_pair(), listen_addrs=[listen])
    out = {}
    async with server.run(listen_addrs=[listen]), client.run(listen_addrs=[listen]):
        server.set_stream_handler(SINK_ID, sink)
        info = PeerInfo(server.get_id(), server.get_addrs())
        with trio.fail_after(args.timeout):
            await client.connect(info)
            total = args.megabytes << 20
            payload = bytes(args.write_bytes)
            runs = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                stream = await client.new_stream(server.get_id(), [SINK_ID])
                sent = 0
                while sent < total:
                    n = min(len(payload), total - sent)
                    await stream.write(payload if n == len(payload) else payload[:n])
                    sent += n
                await stream.close_write()
                answer = await stream.read(8)
                elapsed = time.perf_counter() - start
                if int.from_bytes(answer, "big") != total:
                    raise RuntimeError(f"sink counted {int.from_bytes(answer, 'big')} of {total} bytes")
                runs.append(total / elapsed)
                await stream.close()
            out["stream_bytes"] = total
            out["stream_bytes_per_second"] = max(runs)
            out["stream_bytes_per_second_runs"] = runs
            await client.disconnect(server.get_id())
            # Only the connects are timed: py-libp2p's disconnect takes ~0.2 s of its own here.
            connecting = 0.0
            for _ in range(args.handshakes):
                start = time.perf_counter()
                await client.connect(info)
                connecting += time.perf_counter() - start
                await client.disconnect(server.get_id())
            out["handshakes"] = args.handshakes
            out["handshakes_per_second"] = args.handshakes / connecting
    return out


def main() -> None:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--megabytes", type=int, default=32)
    ap.add_argument("--handshakes", type=int, default=30)
    ap.add_argument("--write-bytes", type=int, default=CHUNK)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    if args.write_bytes < 1 or args.megabytes < 1 or args.repeats < 1:
        ap.error("--write-bytes, --megabytes and --repeats must be at least 1")
    try:
        print(json.dumps(trio.run(run, args)), flush=True)
    except Exception as e:
        print(f"libp2p_perf.py failed: {e!r}", file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
