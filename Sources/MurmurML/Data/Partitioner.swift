import MurmurCore

/// How a data set is divided among simulated clients: the usual IID baseline and the standard
/// ways of making federated data non-IID (label skew and natural groups).
///
/// Every partitioner returns `clients` disjoint, non-empty, ascending index lists whose union is
/// `0..<data.count`, and is a pure function of its inputs and the generator's state.
public enum Partitioner: Sendable, Equatable, CustomStringConvertible {
    /// Uniformly random, equal-size clients (sizes differ by at most one).
    case iid
    /// Label skew: for each class, the class's samples are divided among clients in proportions
    /// drawn from Dir(α, …, α) (Yurochkin et al. 2019; Wang et al. 2020; Li et al. 2022
    /// "Federated Learning on Non-IID Data Silos"; the Dirichlet label-skew of Hsu et al. 2019).
    ///
    /// Small α (0.1) gives each client a few classes, large α (100) is close to IID. A draw
    /// that leaves a client empty is redrawn (up to 10 times); if clients are still empty, each
    /// empty client takes one sample from the currently largest client (from its most common
    /// class), so every client has ≥ 1 sample whenever `data.count ≥ clients`.
    case dirichlet(alpha: Double)
    /// Pathological label skew of McMahan et al. 2017 (FedAvg, §3): sort by label, cut into
    /// `clients · perClient` shards, give each client `perClient` random shards.
    ///
    /// Shards are cut within classes (each class gets shards in proportion to its size, at least
    /// one), so a client holds at most `perClient` labels; only when there are fewer shards than
    /// classes do shards span a class boundary.
    case shards(perClient: Int)
    /// Natural partition by `data.groups` (a device of Synthetic data, a CSV group column).
    ///
    /// With as many clients as groups, client i gets the i-th group in ascending group order.
    /// With fewer clients, whole groups are dealt round-robin: the i-th group goes to client
    /// i mod `clients`. More clients than groups is an error (a group is never split).
    case column

    /// Indices of each client's samples: `clients` disjoint, non-empty, ascending lists whose
    /// union is `0..<data.count`.
    ///
    /// - Throws: `DataError.invalidParameter` for clients < 1, α ≤ 0 or perClient < 1;
    ///   `.tooFewSamples` when there are fewer samples (shards, groups) than clients need;
    ///   `.missingGroups` for `column` on a data set without groups.
    public func partition(_ data: Dataset, clients: Int, rng: inout SeededRNG) throws -> [[Int]] {
        guard clients >= 1 else {
            throw DataError.invalidParameter(name: "clients", value: "\(clients)", expected: "at least 1")
        }
        var parts: [[Int]]
        switch self {
        case .iid:
            parts = try Self.iid(data, clients: clients, rng: &rng)
        case .dirichlet(let alpha):
            guard alpha > 0, alpha.isFinite else {
                throw DataError.invalidParameter(name: "alpha", value: "\(alpha)", expected: "a finite number > 0")
            }
            parts = try Self.dirichlet(data, alpha: alpha, clients: clients, rng: &rng)
        case .shards(let perClient):
            guard perClient >= 1 else {
                throw DataError.invalidParameter(name: "perClient", value: "\(perClient)", expected: "at least 1")
            }
            parts = try Self.shards(data, perClient: perClient, clients: clients, rng: &rng)
        case .column:
            parts = try Self.column(data, clients: clients)
        }
        for i in parts.indices { parts[i].sort() }
        return parts
    }

    /// "iid", "dirichlet:0.5", "shards:2", "column": the form `init(parsing:)` reads.
    public var description: String {
        switch self {
        case .iid: return "iid"
        case .dirichlet(let alpha): return "dirichlet:\(alpha)"
        case .shards(let perClient): return "shards:\(perClient)"
        case .column: return "column"
        }
    }

    /// Parses "iid", "dirichlet:<α>", "shards:<per client>" or "column" (as on a command line).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first?.lowercased(), parts.count) {
        case ("iid", 1): self = .iid
        case ("column", 1): self = .column
        case ("dirichlet", 2):
            guard let a = Double(parts[1]), a > 0, a.isFinite else {
                throw DataError.invalidParameter(name: "alpha", value: parts[1], expected: "a finite number > 0")
            }
            self = .dirichlet(alpha: a)
        case ("shards", 2):
            guard let s = Int(parts[1]), s >= 1 else {
                throw DataError.invalidParameter(name: "perClient", value: parts[1], expected: "an integer ≥ 1")
            }
            self = .shards(perClient: s)
        default: throw DataError.unknownPartitioner(text)
        }
    }

    // MARK: - The four schemes

    private static func iid(_ data: Dataset, clients: Int, rng: inout SeededRNG) throws -> [[Int]] {
        let n = data.count
        guard n >= clients else { throw DataError.tooFewSamples(available: n, needed: clients, unit: "sample") }
        var order = Array(0..<n)
        rng.shuffle(&order)
        return (0..<clients).map { c in Array(order[(c * n / clients)..<((c + 1) * n / clients)]) }
    }

    private static func dirichlet(_ data: Dataset, alpha: Double, clients: Int, rng: inout SeededRNG) throws -> [[Int]] {
        let n = data.count
        guard n >= clients else { throw DataError.tooFewSamples(available: n, needed: clients, unit: "sample") }
        let byClass = indicesByClass(data)
        var parts = [[Int]]()
        for _ in 0..<10 {
            parts = [[Int]](repeating: [], count: clients)
            for var members in byClass where !members.isEmpty {
                rng.shuffle(&members)
                let p = rng.nextDirichlet(alpha: alpha, count: clients)
                let counts = apportion(members.count, weights: p)
                var start = 0
                for (c, k) in counts.enumerated() where k > 0 {
                    parts[c].append(contentsOf: members[start..<(start + k)])
                    start += k
                }
            }
            if parts.allSatisfy({ !$0.isEmpty }) { return parts }
        }
        // Repair: every empty client takes one sample from the largest client's most common class.
        for c in parts.indices where parts[c].isEmpty {
            guard let donor = parts.indices.max(by: { parts[$0].count < parts[$1].count }) else { break }
            var perClass = [Int: Int]()
            for i in parts[donor] { perClass[Int(data.labels[i]), default: 0] += 1 }
            let common = perClass.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? 0
            guard let at = parts[donor].lastIndex(where: { Int(data.labels[$0]) == common }) else { break }
            parts[c].append(parts[donor].remove(at: at))
        }
        return parts
    }

    private static func shards(_ data: Dataset, perClient: Int, clients: Int, rng: inout SeededRNG) throws -> [[Int]] {
        let n = data.count
        let (total, overflow) = clients.multipliedReportingOverflow(by: perClient)
        guard !overflow, n >= total else {
            throw DataError.tooFewSamples(available: n, needed: overflow ? Int.max : total, unit: "sample per shard")
        }
        var byClass = indicesByClass(data).filter { !$0.isEmpty }
        for i in byClass.indices { rng.shuffle(&byClass[i]) }
        var shards = [[Int]]()
        shards.reserveCapacity(total)
        if total >= byClass.count {
            // Label-pure shards: class c gets a_c ≥ 1 shards, Σ a_c = total, a_c ∝ n_c.
            let counts = apportion(total, weights: byClass.map { Double($0.count) }, minimum: 1, maxima: byClass.map(\.count))
            for (members, a) in zip(byClass, counts) {
                for s in 0..<a { shards.append(Array(members[(s * members.count / a)..<((s + 1) * members.count / a)])) }
            }
        } else {
            let sorted = byClass.flatMap { $0 }
            for s in 0..<total { shards.append(Array(sorted[(s * n / total)..<((s + 1) * n / total)])) }
        }
        var order = Array(0..<total)
        rng.shuffle(&order)
        return (0..<clients).map { c in order[(c * perClient)..<((c + 1) * perClient)].flatMap { shards[$0] } }
    }

    private static func column(_ data: Dataset, clients: Int) throws -> [[Int]] {
        guard let groups = data.groups else { throw DataError.missingGroups(dataset: data.name) }
        let distinct = Array(Set(groups)).sorted()
        guard distinct.count >= clients else {
            throw DataError.tooFewSamples(available: distinct.count, needed: clients, unit: "group")
        }
        let client = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0 % clients) })
        var parts = [[Int]](repeating: [], count: clients)
        for (i, g) in groups.enumerated() { parts[client[g] ?? 0].append(i) }
        return parts
    }

    // MARK: - Helpers

    private static func indicesByClass(_ data: Dataset) -> [[Int]] {
        var byClass = [[Int]](repeating: [], count: data.classCount)
        for (i, l) in data.labels.enumerated() { byClass[Int(l)].append(i) }
        return byClass
    }

    /// Integer counts summing to `total` in proportion to `weights` (largest remainder, ties to
    /// the lower index), each at least `minimum` and at most its `maxima` entry when given.
    ///
    /// Callers guarantee Σ minimum ≤ total ≤ Σ maxima.
    static func apportion(_ total: Int, weights: [Double], minimum: Int = 0, maxima: [Int]? = nil) -> [Int] {
        let sum = weights.reduce(0, +)
        let quota = weights.map { sum > 0 ? Double(total) * $0 / sum : Double(total) / Double(weights.count) }
        let cap = maxima ?? [Int](repeating: Int.max, count: weights.count)
        var counts = quota.indices.map { min(cap[$0], max(minimum, Int(quota[$0].rounded(.down)))) }
        var assigned = counts.reduce(0, +)
        // Entries ordered by how far they are below their quota, most first (ties: lower index).
        func byShortfall() -> [Int] {
            counts.indices.sorted { a, b in
                let (da, db) = (quota[a] - Double(counts[a]), quota[b] - Double(counts[b]))
                return da != db ? da > db : a < b
            }
        }
        while assigned < total {
            let before = assigned
            for i in byShortfall() where assigned < total && counts[i] < cap[i] {
                counts[i] += 1
                assigned += 1
            }
            if assigned == before { break }
        }
        while assigned > total {
            let before = assigned
            for i in byShortfall().reversed() where assigned > total && counts[i] > minimum {
                counts[i] -= 1
                assigned -= 1
            }
            if assigned == before { break }
        }
        return counts
    }
}
