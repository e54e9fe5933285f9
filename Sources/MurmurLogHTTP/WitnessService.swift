import Foundation
import MurmurLog

/// A tlog-witness behind HTTP: runs `Witness.addCheckpoint` and persists the new state before the
/// cosignature is returned, atomically with the size check (c2sp.org/tlog-witness, "add-checkpoint").
/// An actor so two submissions cannot interleave between check and persist.
public actor WitnessService {
    var witness: Witness
    let directory: WitnessDirectory?

    /// A service over `witness`; with a `directory`, state and evidence are persisted there.
    public init(witness: Witness, directory: WitnessDirectory?) {
        self.witness = witness
        self.directory = directory
    }

    /// Loads the witness in `directory` for `logs` (restoring its state) and serves it.
    public init(directory: WitnessDirectory, logs: [VerifierKey]) throws {
        witness = try directory.load(logs: logs)
        self.directory = directory
    }

    /// Handles one `add-checkpoint` body at POSIX time `now`; 500 if the new state cannot be persisted.
    public func addCheckpoint(body: [UInt8], now: UInt64) -> Witness.Response {
        var next = witness
        let response = next.addCheckpoint(body: body, now: now)
        if let directory {
            do {
                for e in next.evidence.dropFirst(witness.evidence.count) { try directory.save(evidence: e) }
                if response.status == 200 {
                    for origin in next.logs.keys {
                        guard let note = next.latestNote(origin: origin), note != witness.latestNote(origin: origin) else { continue }
                        try directory.save(latest: note, origin: origin)
                    }
                }
            } catch {
                return Witness.Response(status: 500, contentType: "text/plain; charset=utf-8", body: "witness state could not be persisted: \(error)\n")
            }
        }
        witness = next
        return response
    }

    /// The latest cosigned checkpoint size per origin.
    public func sizes() -> [String: UInt64] { witness.latest.mapValues(\.size) }

    /// Equivocation evidence recorded so far.
    public func evidence() -> [EquivocationEvidence] { witness.evidence }
}
