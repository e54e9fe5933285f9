import MurmurML

/// Networks loaded from model blocks, by model CID, at most `capacity` of them: the API's
/// inference cache and the spot checker's verifier models both keep one.
/// When full, the cache is emptied before a new network goes in (a node serves a handful of
/// models; reloading one costs a safetensors parse, not a fetch).
struct LoadedNetworks {
    /// How many networks stay loaded at most.
    static let capacity = 8
    private var networks: [String: Network] = [:]

    /// The loaded network for `cid`, if any.
    subscript(cid: String) -> Network? { networks[cid] }

    /// Keeps `network` as model `cid`'s, evicting everything first when full.
    mutating func insert(_ network: Network, for cid: String) {
        if networks[cid] == nil && networks.count >= Self.capacity { networks.removeAll() }
        networks[cid] = network
    }
}
