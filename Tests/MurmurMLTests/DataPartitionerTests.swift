import Foundation
import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurML

/// IID, Dirichlet label skew, McMahan shards and natural (column) partitions.
@Suite(.ownThreads) struct DataPartitionerTests {
    static let train = Digits.split().train

    /// A data set with `groups` natural groups of uneven sizes.
    static func grouped(_ groups: Int) -> Dataset {
        var labels = [Int32]()
        var g = [Int32]()
        for k in 0..<groups {
            for i in 0..<(3 + k % 5) {
                labels.append(Int32((k + i) % 4))
                g.append(Int32(100 + 7 * k))  // sparse, non-zero-based group ids
            }
        }
        return Dataset(
            name: "grouped", features: [Float](repeating: 0, count: labels.count), labels: labels, sampleShape: [1],
            classCount: 4, groups: g)
    }

    func expectExactCover(_ parts: [[Int]], count: Int, clients: Int, _ what: String) {
        #expect(parts.count == clients, "\(what)")
        #expect(parts.allSatisfy { !$0.isEmpty }, "\(what): a client is empty")
        #expect(parts.allSatisfy { $0 == $0.sorted() }, "\(what): not ascending")
        #expect(parts.flatMap { $0 }.sorted() == Array(0..<count), "\(what): not every sample exactly once")
    }

    @Test(arguments: [1, 7, 50, 100])
    func everySampleExactlyOnce(clients: Int) throws {
        let schemes: [Partitioner] = [.iid, .dirichlet(alpha: 0.5), .dirichlet(alpha: 0.05), .shards(perClient: 2)]
        for p in schemes {
            var rng = SeededRNG(seed: 42)
            let parts = try p.partition(Self.train, clients: clients, rng: &rng)
            expectExactCover(parts, count: Self.train.count, clients: clients, "\(p) × \(clients)")
        }
        let grouped = Self.grouped(100)
        var rng = SeededRNG(seed: 42)
        let parts = try Partitioner.column.partition(grouped, clients: clients, rng: &rng)
        expectExactCover(parts, count: grouped.count, clients: clients, "column × \(clients)")
    }

    @Test func iidSizesDifferByAtMostOne() throws {
        var rng = SeededRNG(seed: 1)
        let sizes = try Partitioner.iid.partition(Self.train, clients: 37, rng: &rng).map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
    }

    /// Mean over clients of (largest class share, label entropy in bits).
    func skew(_ parts: [[Int]], _ d: Dataset) -> (maxShare: Double, entropy: Double) {
        var share = 0.0
        var entropy = 0.0
        for p in parts {
            var h = [Int](repeating: 0, count: d.classCount)
            for i in p { h[Int(d.labels[i])] += 1 }
            let n = Double(p.count)
            share += Double(h.max()!) / n
            entropy -= h.filter { $0 > 0 }.map { Double($0) / n * log2(Double($0) / n) }.reduce(0, +)
        }
        return (share / Double(parts.count), entropy / Double(parts.count))
    }

    @Test func dirichletSkewGrowsAsAlphaShrinks() throws {
        let results = try [100.0, 1, 0.1].map { alpha in
            var rng = SeededRNG(seed: 9)
            return skew(try Partitioner.dirichlet(alpha: alpha).partition(Self.train, clients: 20, rng: &rng), Self.train)
        }
        #expect(results[0].maxShare < results[1].maxShare && results[1].maxShare < results[2].maxShare)
        #expect(results[0].entropy > results[1].entropy && results[1].entropy > results[2].entropy)
        // α = 100 is near IID (10 classes: entropy ≈ log2 10 ≈ 3.32); α = 0.1 leaves ~1–2 classes per client.
        #expect(results[0].entropy > 3.1)
        #expect(results[2].entropy < 2)
    }

    @Test func dirichletRepairsEmptyClients() throws {
        // α = 0.01 over 300 clients almost always leaves clients empty; the repair must fill them.
        var rng = SeededRNG(seed: 3)
        let parts = try Partitioner.dirichlet(alpha: 0.01).partition(Self.train, clients: 300, rng: &rng)
        expectExactCover(parts, count: Self.train.count, clients: 300, "dirichlet(0.01) × 300")
    }

    @Test(arguments: [(1, 10), (2, 50), (2, 100), (3, 40)])
    func shardsHoldAtMostPerClientLabels(perClient: Int, clients: Int) throws {
        var rng = SeededRNG(seed: 5)
        let parts = try Partitioner.shards(perClient: perClient).partition(Self.train, clients: clients, rng: &rng)
        expectExactCover(parts, count: Self.train.count, clients: clients, "shards")
        for p in parts { #expect(Set(p.map { Self.train.labels[$0] }).count <= perClient) }
        // Shards are near-equal: sizes within a factor of 2 of the mean shard.
        let mean = Double(Self.train.count) / Double(clients)
        #expect(parts.allSatisfy { Double($0.count) > 0.5 * mean && Double($0.count) < 2 * mean })
    }

    @Test func columnGivesOneGroupPerClientOrDealsGroupsRoundRobin() throws {
        let d = Self.grouped(12)
        let ids = Array(Set(d.groups!)).sorted()
        var rng = SeededRNG(seed: 0)
        let one = try Partitioner.column.partition(d, clients: 12, rng: &rng)
        for (c, p) in one.enumerated() { #expect(Set(p.map { d.groups![$0] }) == [ids[c]]) }
        let dealt = try Partitioner.column.partition(d, clients: 5, rng: &rng)
        for (c, p) in dealt.enumerated() {
            let expected = Set(ids.indices.filter { $0 % 5 == c }.map { ids[$0] })
            #expect(Set(p.map { d.groups![$0] }) == expected)
        }
    }

    @Test func deterministicPerSeed() throws {
        for p: Partitioner in [.iid, .dirichlet(alpha: 0.3), .shards(perClient: 2)] {
            var a = SeededRNG(seed: 11)
            var b = SeededRNG(seed: 11)
            var c = SeededRNG(seed: 12)
            let pa = try p.partition(Self.train, clients: 30, rng: &a)
            #expect(pa == (try p.partition(Self.train, clients: 30, rng: &b)))
            #expect(pa != (try p.partition(Self.train, clients: 30, rng: &c)))
        }
    }

    @Test func invalidRequestsThrow() {
        var rng = SeededRNG(seed: 0)
        let small = Self.train.subset(Array(0..<10))
        #expect(throws: DataError.invalidParameter(name: "clients", value: "0", expected: "at least 1")) {
            try Partitioner.iid.partition(small, clients: 0, rng: &rng)
        }
        #expect(throws: DataError.invalidParameter(name: "alpha", value: "0.0", expected: "a finite number > 0")) {
            try Partitioner.dirichlet(alpha: 0).partition(small, clients: 2, rng: &rng)
        }
        #expect(throws: DataError.self) { try Partitioner.dirichlet(alpha: -1).partition(small, clients: 2, rng: &rng) }
        #expect(throws: DataError.tooFewSamples(available: 10, needed: 11, unit: "sample")) {
            try Partitioner.iid.partition(small, clients: 11, rng: &rng)
        }
        #expect(throws: DataError.self) { try Partitioner.shards(perClient: 2).partition(small, clients: 6, rng: &rng) }
        #expect(throws: DataError.self) { try Partitioner.shards(perClient: 0).partition(small, clients: 2, rng: &rng) }
        #expect(throws: DataError.missingGroups(dataset: "digits")) {
            try Partitioner.column.partition(small, clients: 2, rng: &rng)
        }
        #expect(throws: DataError.tooFewSamples(available: 3, needed: 4, unit: "group")) {
            try Partitioner.column.partition(Self.grouped(3), clients: 4, rng: &rng)
        }
    }

    @Test func parsesCommandLineForms() throws {
        for p: Partitioner in [.iid, .dirichlet(alpha: 0.5), .shards(perClient: 2), .column] {
            #expect(try Partitioner(parsing: p.description) == p)
        }
        #expect(try Partitioner(parsing: "Dirichlet:0.1") == .dirichlet(alpha: 0.1))
        #expect(throws: DataError.unknownPartitioner("dirichlet")) { try Partitioner(parsing: "dirichlet") }
        #expect(throws: DataError.self) { try Partitioner(parsing: "dirichlet:-1") }
        #expect(throws: DataError.self) { try Partitioner(parsing: "shards:x") }
    }

    @Test func apportionIsExactAndProportional() {
        #expect(Partitioner.apportion(10, weights: [1, 1, 1]) == [4, 3, 3])
        #expect(Partitioner.apportion(7, weights: [0.5, 0.25, 0.25]) == [3, 2, 2])  // quotas 3.5, 1.75, 1.75
        #expect(Partitioner.apportion(5, weights: [100, 1, 1], minimum: 1, maxima: [100, 5, 5]) == [3, 1, 1])
        #expect(Partitioner.apportion(6, weights: [100, 1], minimum: 1, maxima: [2, 10]) == [2, 4])
    }
}
