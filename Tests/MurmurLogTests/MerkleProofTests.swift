import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// RFC 9162 hashing and proofs against transparency-dev/merkle's test vectors (Data/README.md).
@Suite(.ownThreads) struct MerkleProofTests {
    /// The RFC 6962 test leaves used by transparency-dev/merkle (testonly/constants.go).
    static let leafData: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ]

    static func cases(_ kind: String) throws -> [(String, [String: Any])] {
        let root = testData.appendingPathComponent("merkle/\(kind)")
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }
        return try files.map { url in
            (url.path.replacingOccurrences(of: root.path, with: kind),
             try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any])
        }.sorted { $0.0 < $1.0 }
    }

    /// A vector's hash; a value that is not 32 bytes (e.g. "don't care") maps to SHA-256 of its bytes,
    /// which keeps equal values equal and never matches a computed hash, as byte comparison in Go does.
    static func hash(_ v: Any?) -> LogHash? {
        guard let s = v as? String else { return nil }
        return LogHash(base64: s) ?? RFC9162.sha256(Array(Data(base64Encoded: s) ?? Data(s.utf8)))
    }
    static func hashes(_ v: Any?) -> [LogHash]? {
        guard let list = v as? [String] else { return v is NSNull || v == nil ? [] : nil }
        return list.compactMap { hash($0) }
    }

    @Test func emptyTreeAndLeafHashes() {
        #expect(RFC9162.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(RFC9162.leafHash([]).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        let tree = MemoryTree(leaves: Self.leafData.map { RFC9162.leafHash($0) })
        #expect(tree.root.hex == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
    }

    @Test func inclusionVectors() throws {
        let cases = try Self.cases("inclusion")
        #expect(cases.count >= 90)
        for (name, c) in cases {
            let want = c["wantErr"] as! Bool
            var ok = false
            // Inclusion is strict: a leaf hash or root that is not 32 bytes is an error (as in Go's verifier).
            if let leaf = (c["leafHash"] as? String).flatMap({ LogHash(base64: $0) }),
               let root = (c["root"] as? String).flatMap({ LogHash(base64: $0) }), let proof = Self.hashes(c["proof"]),
               let i = (c["leafIdx"] as? NSNumber)?.int64Value, let n = (c["treeSize"] as? NSNumber)?.int64Value, i >= 0, n >= 0 {
                ok = (try? MerkleProof.verifyInclusion(index: UInt64(i), size: UInt64(n), leaf: leaf, proof: proof, root: root)) != nil
            }
            #expect(ok == !want, "\(name): \(c["desc"] ?? "")")
        }
    }

    @Test func consistencyVectors() throws {
        let cases = try Self.cases("consistency")
        #expect(cases.count >= 90)
        for (name, c) in cases {
            let want = c["wantErr"] as! Bool
            var ok = false
            if let r1 = Self.hash(c["root1"]), let r2 = Self.hash(c["root2"]), let proof = Self.hashes(c["proof"]),
               let m = (c["size1"] as? NSNumber)?.int64Value, let n = (c["size2"] as? NSNumber)?.int64Value, m >= 0, n >= 0 {
                ok = (try? MerkleProof.verifyConsistency(from: UInt64(m), to: UInt64(n), proof: proof, oldRoot: r1, newRoot: r2)) != nil
            }
            #expect(ok == !want, "\(name): \(c["desc"] ?? "")")
        }
    }

    /// Our generated proofs equal the vectors' happy paths (the leaves are the RFC 6962 test leaves).
    @Test func generatedProofsMatchVectors() throws {
        let all = Self.leafData.map { RFC9162.leafHash($0) }
        for (name, c) in try Self.cases("inclusion") where name.hasSuffix("happy-path.json") {
            let n = Int(c["treeSize"] as! Int), i = UInt64(c["leafIdx"] as! Int)
            let proof = try MerkleProof.inclusionProof(index: i, size: UInt64(n), MemoryTree(leaves: Array(all[0..<n])))
            #expect(proof == Self.hashes(c["proof"]), "\(name)")
        }
        for (name, c) in try Self.cases("consistency") where name.hasSuffix("happy-path.json") {
            let m = UInt64(c["size1"] as! Int), n = Int(c["size2"] as! Int)
            let proof = try MerkleProof.consistencyProof(from: m, to: UInt64(n), MemoryTree(leaves: Array(all[0..<n])))
            #expect(proof == Self.hashes(c["proof"]), "\(name)")
        }
    }

    /// Property: for every size up to 70 and every index/old size, generated proofs verify, and a flipped hash fails.
    @Test func generatedProofsVerify() throws {
        let leaves = (0..<70).map { RFC9162.leafHash([UInt8]("entry \($0)")) }
        for n in 1...70 {
            let tree = MemoryTree(leaves: Array(leaves[0..<n]))
            let root = tree.root
            #expect(try MerkleProof.rootHash(size: UInt64(n), tree) == root)
            for i in 0..<n {
                let p = try MerkleProof.inclusionProof(index: UInt64(i), size: UInt64(n), tree)
                try MerkleProof.verifyInclusion(index: UInt64(i), size: UInt64(n), leaf: leaves[i], proof: p, root: root)
                if !p.isEmpty {
                    var bad = p
                    bad[i % p.count] = RFC9162.leafHash([1])
                    #expect(throws: MerkleProofError.self) {
                        try MerkleProof.verifyInclusion(index: UInt64(i), size: UInt64(n), leaf: leaves[i], proof: bad, root: root)
                    }
                }
            }
            for m in 1...n {
                let old = MemoryTree(leaves: Array(leaves[0..<m])).root
                let p = try MerkleProof.consistencyProof(from: UInt64(m), to: UInt64(n), tree)
                try MerkleProof.verifyConsistency(from: UInt64(m), to: UInt64(n), proof: p, oldRoot: old, newRoot: root)
            }
        }
    }
}
