/// The simulation's transport: clients are values in memory, a "message" is a function call, and
/// `NetworkConditions` decide who drops out or straggles. Calls run on the caller's task, so the
/// round protocol's task group spreads clients over the cores.
public struct InMemoryTransport: Transport {
    let clients: [ClientID: any ClientApp]
    let conditions: NetworkConditions
    let seed: UInt64

    public init(clients: [any ClientApp], ids: [ClientID], conditions: NetworkConditions = .init(), seed: UInt64) {
        precondition(clients.count == ids.count, "one id per client")  // programmer error
        var map = [ClientID: any ClientApp]()
        for (id, c) in zip(ids, clients) { map[id] = c }
        self.clients = map
        self.conditions = conditions
        self.seed = seed
    }

    public func onlineClients() async -> [ClientID] { clients.keys.sorted() }

    public func fit(_ instruction: FitInstruction, client: ClientID) async throws -> FitResult {
        guard let app = clients[client] else { throw FLError.unknownClient(client) }
        switch conditions.fate(client: client, round: instruction.round, seed: seed) {
        case .dropsOut: throw FLError.clientDropped(client)
        case .straggles:
            // The straggler's answer arrives after the deadline and is discarded, so the
            // simulation does not spend the training on it.
            throw FLError.clientTimedOut(client)
        case .answers: return try app.fit(instruction)
        }
    }

    public func evaluate(_ instruction: EvaluateInstruction, client: ClientID) async throws -> EvaluateResult {
        guard let app = clients[client] else { throw FLError.unknownClient(client) }
        return try app.evaluate(instruction)
    }
}
