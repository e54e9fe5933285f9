import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

/// `SecAggRoundConfig.minimumSurvivors`: distributed DP needs the noise of enough clients, so
/// honest clients refuse to unmask, and an honest server aborts, below that many masked inputs.
@Suite(.ownThreads) struct MinimumSurvivorsTests {
    /// Stages 1–3 with clients 0 and 1 never sending their masked input (4 of 6 survive).
    func drive(clientConfig: SecAggRoundConfig, serverConfig: SecAggRoundConfig, r: TestRound)
        throws -> (clients: [SecAggClient], server: SecAggServer)
    {
        var clients = try (0..<6).map {
            try SecAggClient(index: $0, identity: r.identities[$0], config: clientConfig, input: r.inputs[$0])
        }
        var server = SecAggServer(config: serverConfig)
        for i in clients.indices { for m in try clients[i].start().messages { _ = try server.receive(m) } }
        for m in try server.closeStage().messages { for out in try clients[m.client].receive(m).messages { _ = try server.receive(out) } }
        for m in try server.closeStage().messages where m.client > 1 {
            for out in try clients[m.client].receive(m).messages { _ = try server.receive(out) }
        }
        return (clients, server)
    }

    @Test func clientsRefuseToUnmaskBelowTheMinimum() throws {
        let r = try TestRound(n: 6, k: 5, t: 3)
        var strict = r.config
        strict.minimumSurvivors = 5
        // A server that ignores the minimum asks anyway; every survivor refuses.
        var (clients, server) = try drive(clientConfig: strict, serverConfig: r.config, r: r)
        let requests = try server.closeStage().messages
        #expect(requests.count == 4)
        for m in requests {
            #expect(throws: SecAggError.tooFewSurvivors(stage: "MaskedInput", survivors: 4, threshold: 5)) {
                try clients[m.client].receive(m)
            }
        }
    }

    @Test func serverAbortsBelowTheMinimumAndFinishesAtIt() throws {
        let r = try TestRound(n: 6, k: 5, t: 3)
        var strict = r.config
        strict.minimumSurvivors = 5
        var (_, server) = try drive(clientConfig: strict, serverConfig: strict, r: r)
        #expect(throws: SecAggError.tooFewSurvivors(stage: "MaskedInput", survivors: 4, threshold: 5)) { try server.closeStage() }
        strict.minimumSurvivors = 4
        let (result, _) = try SecAggSimulation.run(
            config: strict, identities: r.identities, inputs: r.inputs, dropouts: [0: .maskedInput, 1: .maskedInput])
        #expect(result.contributors == [2, 3, 4, 5])
        #expect(result.sum == r.plainSum([2, 3, 4, 5]))
    }
}
