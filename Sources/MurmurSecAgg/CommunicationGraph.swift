import Foundation
import MurmurCore

/// The k-regular communication graph of SecAgg+: each client shares secrets and masks only with
/// its k neighbours instead of all n − 1 peers.
///
/// Bell et al. (CCS 2020, §3.2) use a Harary graph H(k, n) under a random relabeling of the
/// clients: clients sit on a ring in a random order and each is adjacent to the k/2 nearest on
/// either side. H(k, n) is k-connected, so fewer than k removed clients never split it.
public struct CommunicationGraph: Sendable, Hashable {
    /// Number of clients n.
    public let count: Int
    /// Degree k (n − 1 when the graph is complete).
    public let degree: Int
    /// Sorted neighbour lists, indexed by client.
    public let neighbors: [[Int]]
    private let adjacency: [Set<Int>]

    /// The relabeled Harary graph H(k, n) drawn from `seed`; k is rounded up to even and
    /// k ≥ n − 1 yields the complete graph (plain SecAgg of Bonawitz et al.).
    public init(count n: Int, degree k: Int, seed: UInt64) throws {
        guard n >= 2 else { throw SecAggError.invalidParameters("a round needs at least 2 clients, got \(n)") }
        guard k >= 1 else { throw SecAggError.invalidParameters("graph degree must be positive, got \(k)") }
        var lists = [[Int]](repeating: [], count: n)
        let evenK = k + (k & 1)
        if evenK >= n - 1 {
            for i in 0..<n { lists[i] = (0..<n).filter { $0 != i } }
        } else {
            var order = Array(0..<n)
            var rng = SeededRNG(seed: seed)
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            for p in 0..<n {
                for j in 1...(evenK / 2) {
                    lists[order[p]].append(order[(p + j) % n])
                    lists[order[p]].append(order[(p - j + n) % n])
                }
            }
            for i in 0..<n { lists[i].sort() }
        }
        count = n
        degree = lists[0].count
        neighbors = lists
        adjacency = lists.map(Set.init)
    }

    /// Whether a and b share an edge.
    public func areNeighbors(_ a: Int, _ b: Int) -> Bool {
        a >= 0 && a < count && adjacency[a].contains(b)
    }
}

/// The public parameters of a SecAgg+ deployment: graph degree k, Shamir threshold t and the
/// quantization ring.
///
/// Derived from n, the dropout rate δ and the corruption rate γ by `derive`, or set by hand.
public struct SecAggParameters: Sendable, Hashable {
    /// Number of clients selected for the round, n.
    public let clientCount: Int
    /// Graph degree k (number of neighbours, i.e. shares per secret).
    public let degree: Int
    /// Shamir threshold t: shares needed to reconstruct a secret, also the minimum survivors.
    public let threshold: Int
    /// The quantizer that fixes q and b.
    public let quantizer: Quantizer

    /// Explicit parameters; requires k/2 < t ≤ k so that the server can never hold t shares of
    /// both secrets of one client from honest neighbours (each answers for one secret only).
    public init(clientCount: Int, degree: Int, threshold: Int, quantizer: Quantizer) throws {
        let k = min(degree + (degree & 1), clientCount - 1)
        guard clientCount >= 2 else { throw SecAggError.invalidParameters("need at least 2 clients") }
        guard threshold > k / 2, threshold <= k else {
            throw SecAggError.invalidParameters("threshold \(threshold) must satisfy k/2 < t ≤ k for k = \(k)")
        }
        self.clientCount = clientCount
        self.degree = k
        self.threshold = threshold
        self.quantizer = quantizer
    }

    /// The smallest even k (and its t) meeting Bell et al.'s per-client conditions with a union
    /// bound over the n clients, with neighbour dropouts ~ Bin(k, δ) and corruptions ~ Bin(k, γ):
    ///
    ///   correctness: P[Bin(k, 1 − δ) < t] ≤ 2^−η / n   (each survivor keeps t answering neighbours)
    ///   security:    P[Bin(k, γ) ≥ 2t − k] ≤ 2^−σ / n  (c corrupt neighbours plus honest answers,
    ///                each honest one revealing one secret, never reach t for both: 2(t − c) ≤ k − c)
    ///   privacy:     n·(δ + γ)^(k/2) ≤ 2^−σ           (no run of k/2 consecutive ring positions is
    ///                removed, so honest survivors stay connected and only the full sum is revealed)
    ///
    /// All three tails shrink exponentially in k, hence k = O(log n) (Bell et al. CCS 2020, §3–4).
    /// The complete graph (k = n − 1) is the last candidate; throws if even it fails.
    public static func derive(
        clientCount n: Int, dropoutRate δ: Double, corruptionRate γ: Double,
        securityBits σ: Double = 40, correctnessBits η: Double = 20,
        inputBits: Int = 16, clip: Float = 1
    ) throws -> SecAggParameters {
        guard δ >= 0, δ < 1, γ >= 0, γ < 0.5, n >= 2 else {
            throw SecAggError.invalidParameters("need 0 ≤ δ < 1, 0 ≤ γ < 1/2 and n ≥ 2")
        }
        let quantizer = try Quantizer(clip: clip, inputBits: inputBits, clientCount: n)
        let logN = log2(Double(n))
        func ok(_ p: Double, _ bits: Double) -> Bool { p == 0 || log2(p) <= -bits - logN }
        for k in Array(stride(from: 2, to: n - 1, by: 2)) + [n - 1] {
            let connected = k == n - 1 || ok(pow(δ + γ, Double(k / 2)), σ)
            guard connected else { continue }
            for t in (k / 2 + 1)...k
            where ok(binomialTail(k: k, p: δ, atLeast: k - t + 1), η) && ok(binomialTail(k: k, p: γ, atLeast: 2 * t - k), σ) {
                return try SecAggParameters(clientCount: n, degree: k, threshold: t, quantizer: quantizer)
            }
        }
        throw SecAggError.invalidParameters(
            "no graph degree gives dropout rate \(δ) with failure 2^-\(η) and corruption rate \(γ) with security 2^-\(σ) "
                + "for n = \(n); lower the rates or the security level, or select more clients")
    }

    /// P[Bin(k, p) ≥ m], summed in log space.
    static func binomialTail(k: Int, p: Double, atLeast m: Int) -> Double {
        if m <= 0 { return 1 }
        if m > k { return 0 }
        if p <= 0 { return 0 }
        if p >= 1 { return 1 }
        var total = 0.0
        for i in m...k {
            let logC = lgamma(Double(k + 1)) - lgamma(Double(i + 1)) - lgamma(Double(k - i + 1))
            total += exp(logC + Double(i) * log(p) + Double(k - i) * log1p(-p))
        }
        return total
    }
}

/// Everything the clients and server of one round agree on before it starts.
///
/// Bell et al. (CCS 2020, §3) let the server sample the graph; here it is drawn from a public
/// seed so every party derives the same H(k, n) and a client can check its neighbour list.
public struct SecAggRoundConfig: Sendable {
    /// The round number, bound into every signature, AEAD and key derivation.
    public let round: UInt64
    /// k, t, q, b.
    public let parameters: SecAggParameters
    /// The Ed25519 identities of the selected clients; a client's index is its position here.
    public let participants: [PublicIdentity]
    /// Length d of the input vectors.
    public let dimension: Int
    /// The communication graph.
    public let graph: CommunicationGraph
    /// The fewest masked inputs for which honest clients reveal their unmasking shares (0: only
    /// the threshold t applies). Distributed DP sets it so that the released sum always carries
    /// the noise of enough clients (Kairouz, Liu & Steinke 2021, §5: dropouts remove noise).
    public var minimumSurvivors: Int = 0

    /// A round over `participants` with the graph drawn from `graphSeed`.
    public init(round: UInt64, parameters: SecAggParameters, participants: [PublicIdentity], dimension: Int, graphSeed: UInt64) throws {
        guard participants.count == parameters.clientCount else {
            throw SecAggError.invalidParameters("\(participants.count) participants but parameters are for \(parameters.clientCount)")
        }
        guard dimension >= 1 else { throw SecAggError.invalidParameters("dimension must be positive") }
        self.round = round
        self.parameters = parameters
        self.participants = participants
        self.dimension = dimension
        self.graph = try CommunicationGraph(count: participants.count, degree: parameters.degree, seed: graphSeed)
    }

    /// Throws unless `client` is a participant index.
    func check(_ client: Int) throws {
        guard client >= 0, client < participants.count else { throw SecAggError.unknownClient(client) }
    }
}
