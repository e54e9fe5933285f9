import MurmurCore

@testable import MurmurSecAgg

/// A small round fixture: n deterministic identities, random inputs in Z_{2^q}.
struct TestRound {
    let config: SecAggRoundConfig
    let identities: [Identity]
    let inputs: [[UInt32]]

    init(n: Int, k: Int, t: Int, dimension: Int = 16, inputBits: Int = 12, seed: UInt64 = 1, round: UInt64 = 7) throws {
        var rng = SeededRNG(seed: seed)
        identities = (0..<n).map { _ in Identity(deterministic: &rng) }
        let q = try Quantizer(clip: 1, inputBits: inputBits, clientCount: n)
        let parameters = try SecAggParameters(clientCount: n, degree: k, threshold: t, quantizer: q)
        config = try SecAggRoundConfig(
            round: round, parameters: parameters, participants: identities.map(\.publicKey), dimension: dimension, graphSeed: seed)
        inputs = (0..<n).map { _ in (0..<dimension).map { _ in UInt32(rng.next() & ((1 << UInt64(inputBits)) - 1)) } }
    }

    func clients() throws -> [SecAggClient] {
        try (0..<identities.count).map { try SecAggClient(index: $0, identity: identities[$0], config: config, input: inputs[$0]) }
    }

    /// Σ_{u ∈ set} x_u mod 2^b.
    func plainSum(_ set: some Sequence<Int>) -> [UInt32] {
        var s = [UInt32](repeating: 0, count: config.dimension)
        for u in set { for i in s.indices { s[i] &+= inputs[u][i] } }
        return s.map { $0 & config.parameters.quantizer.ringMask }
    }
}

extension Array where Element == SecAggAction {
    /// The messages in `.send` actions.
    var messages: [SecAggMessage] { compactMap { if case .send(let m) = $0 { return m } else { return nil } } }
}

/// A round driven by hand up to the unmask requests, so tests can play a malicious server.
struct DrivenRound {
    var clients: [SecAggClient]
    var server: SecAggServer
    var rosters: [SecAggMessage] = []
    var bundles: [SecAggMessage] = []
    var requests: [SecAggMessage] = []
    var masked: [SecAggMessage] = []

    /// Runs stages 1–3 with the clients in `skipInput` never sending their masked input.
    init(_ r: TestRound, skipInput: Set<Int> = []) throws {
        clients = try r.clients()
        server = SecAggServer(config: r.config)
        for i in clients.indices { for m in try clients[i].start().messages { _ = try server.receive(m) } }
        rosters = try server.closeStage().messages
        for m in rosters { for out in try clients[m.client].receive(m).messages { _ = try server.receive(out) } }
        bundles = try server.closeStage().messages
        for m in bundles where !skipInput.contains(m.client) {
            for out in try clients[m.client].receive(m).messages {
                masked.append(out)
                _ = try server.receive(out)
            }
        }
        requests = try server.closeStage().messages
    }
}
