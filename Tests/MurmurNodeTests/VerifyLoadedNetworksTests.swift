import MurmurML
import Testing
@testable import MurmurNode

/// The bounded cache of loaded networks the API and the spot checker share.
struct VerifyLoadedNetworksTests {
    func net(_ seed: UInt64) throws -> Network {
        try Network(config: ModelConfig(architecture: .logisticRegression, inputShape: [4], classCount: 2), seed: seed)
    }

    @Test func keepsUpToCapacityThenStartsOver() throws {
        var cache = LoadedNetworks()
        let nets = try (0..<(LoadedNetworks.capacity + 1)).map { try net(UInt64($0)) }
        for i in 0..<LoadedNetworks.capacity { cache.insert(nets[i], for: "m\(i)") }
        for i in 0..<LoadedNetworks.capacity { #expect(cache["m\(i)"] === nets[i]) }
        // replacing a model already held does not evict the others
        cache.insert(nets[LoadedNetworks.capacity], for: "m0")
        #expect(cache["m0"] === nets[LoadedNetworks.capacity] && cache["m1"] === nets[1])
        // a new model when full: only it remains
        cache.insert(nets[0], for: "new")
        #expect(cache["new"] === nets[0])
        #expect((0..<LoadedNetworks.capacity).allSatisfy { cache["m\($0)"] == nil })
    }
}
