import Foundation
import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurP2P

/// Blocks and manifests: CIDs against independent computations, chunking round trips, and
/// manifests that must be rejected.
@Suite struct BlocksManifestTests {
    /// CIDv1 raw sha2-256 of "hello world": the value `ipfs add --cid-version 1 --raw-leaves`
    /// prints for it, derived by hand from the multiformats/cid spec (0x01 version, 0x55 raw,
    /// 0x12 0x20 sha2-256 multihash, RFC 4648 base32 lower case without padding, prefix `b`).
    @Test func rawBlockCIDKnownAnswer() throws {
        let block = Block(raw: Array("hello world".utf8))
        #expect(block.cid.description == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        #expect(try Block(verifying: Array("hello world".utf8), as: CID("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")) == block)
    }

    /// Root and chunk CIDs of a small chunked object, recomputed in Python (hashlib, base64,
    /// json with sorted keys and no spaces) from the format documented in docs/p2p.md.
    @Test func chunkedObjectCIDsMatchPython() async throws {
        var rng = SeededRNG(seed: 9)
        let bytes = (0..<1000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let (manifest, chunks) = BlockManifest.chunk(bytes, chunkSize: 300)
        #expect(chunks.map(\.bytes.count) == [300, 300, 300, 100])
        let script = """
            import base64, hashlib, json, sys
            data = bytes.fromhex(sys.argv[1])
            def cid(prefix, b):
                raw = bytes(prefix) + b'\\x12\\x20' + hashlib.sha256(b).digest()
                return 'b' + base64.b32encode(raw).decode().lower().rstrip('=')
            chunks = [data[i:i + 300] for i in range(0, len(data), 300)]
            doc = {'chunks': [{'cid': cid([1, 0x55], c), 'size': len(c)} for c in chunks],
                   'size': len(data), 'type': 'murmur/blocks-manifest/1'}
            text = json.dumps(doc, sort_keys=True, separators=(',', ':')).encode()
            print(cid([1, 0x80, 0x04], text))
            for c in chunks: print(cid([1, 0x55], c))
            """
        let out = try await runProcessAsync(URL(fileURLWithPath: try PythonReference.python()), ["-c", script, Multibase.hex(bytes)])
        #expect(out.status == 0, "python failed: \(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines == [manifest.cid.description] + chunks.map(\.cid.description))
    }

    @Test func chunkingRoundTrips() throws {
        var rng = SeededRNG(seed: 3)
        for (count, chunkSize) in [(0, 16), (1, 16), (16, 16), (17, 16), (5000, 1024), (3 * Block.maxSize + 5, Block.maxSize)] {
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let (root, chunks) = BlockManifest.chunk(bytes, chunkSize: chunkSize)
            #expect(root.cid.codec == CID.jsonCodec)
            #expect(chunks.count == (count + chunkSize - 1) / chunkSize)
            #expect(chunks.allSatisfy { $0.bytes.count <= chunkSize && $0.cid == CID.raw($0.bytes) })
            // The manifest block decodes back to the chunk list, and the chunks reassemble the object.
            let decoded = try BlockManifest(decoding: try Block(verifying: root.bytes, as: root.cid))
            #expect(decoded.size == count)
            #expect(decoded.chunks.map(\.cid) == chunks.map(\.cid))
            #expect(decoded.chunks.map(\.size) == chunks.map(\.bytes.count))
            #expect(chunks.flatMap(\.bytes) == bytes)
            #expect(decoded.block == root)
        }
    }

    @Test func aBlockThatDoesNotHashToItsCIDIsRejected() throws {
        let cid = CID.raw([1, 2, 3])
        #expect(throws: BlockError.hashMismatch(cid)) { try Block(verifying: [1, 2, 4], as: cid) }
        let identity = CID(codec: CID.rawCodec, multihash: Multihash(code: Multihash.identityCode, digest: [1, 2, 3]))
        #expect(throws: BlockError.self) { try Block(verifying: [1, 2, 3], as: identity) }
        let big = [UInt8](repeating: 7, count: Block.maxSize + 1)
        #expect(throws: BlockError.self) { try Block(verifying: big, as: CID.raw(big)) }
    }

    /// Each manifest below is valid JSON but not a valid manifest; every one must be refused.
    @Test func malformedManifestsAreRejected() throws {
        let chunk = CID.raw([1, 2, 3]).description
        let json = CID.json([1]).description
        let documents = [
            #"{"chunks":[],"size":0,"type":"something-else"}"#,
            #"{"chunks":[{"cid":"\#(chunk)","size":3}],"size":4,"type":"murmur/blocks-manifest/1"}"#,
            #"{"chunks":[{"cid":"\#(chunk)","size":0}],"size":0,"type":"murmur/blocks-manifest/1"}"#,
            #"{"chunks":[{"cid":"\#(json)","size":3}],"size":3,"type":"murmur/blocks-manifest/1"}"#,
            #"{"chunks":[{"cid":"not-a-cid","size":3}],"size":3,"type":"murmur/blocks-manifest/1"}"#,
            #"{"chunks":[{"cid":"\#(chunk)","size":2000000}],"size":2000000,"type":"murmur/blocks-manifest/1"}"#,
            #"{"chunks":[],"extra":1,"size":0,"type":"murmur/blocks-manifest/1"}"#,
            #"{"size":0,"type":"murmur/blocks-manifest/1","chunks":[]}"#,  // keys not sorted: not canonical
            #"{"chunks": [], "size": 0, "type": "murmur/blocks-manifest/1"}"#,  // spaces: not canonical
            #"["chunks"]"#,
            #"{"chunks":[{"cid":"\#(chunk)","size":3}"#,  // truncated
        ]
        for text in documents {
            let bytes = Array(text.utf8)
            #expect(throws: BlockError.self, "\(text)") { try BlockManifest(decoding: try Block(verifying: bytes, as: CID.json(bytes))) }
        }
        // A valid document under the raw codec is not a manifest either.
        let valid = BlockManifest(chunks: [.init(cid: CID.raw([1, 2, 3]), size: 3)]).encoded
        #expect(throws: BlockError.self) { try BlockManifest(decoding: Block(raw: valid)) }
        #expect(try BlockManifest(decoding: try Block(verifying: valid, as: CID.json(valid))).size == 3)
    }
}
