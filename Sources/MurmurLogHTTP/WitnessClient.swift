import Foundation
import MurmurLog
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The log operator's side of c2sp.org/tlog-witness: POST a checkpoint with a consistency proof from the
/// witness's last size to `<url>/add-checkpoint`, follow one 409 (learn the size, re-prove), return the cosignatures.
public struct WitnessClient: Sendable {
    /// The witness's submission prefix.
    public let url: URL
    /// Seconds to wait for an answer.
    public let timeout: TimeInterval

    /// A client for the witness at `url`.
    public init(url: URL, timeout: TimeInterval = 10) {
        self.url = url
        self.timeout = timeout
    }

    /// One answer of the witness.
    public enum Answer: Sendable, Equatable {
        /// 200: the cosignature lines.
        case cosigned([NoteSignature])
        /// 409: the size the witness last cosigned.
        case conflict(knownSize: UInt64)
        /// Any other status with the witness's message.
        case refused(status: Int, message: String)
    }

    /// One `add-checkpoint` request: `old N`, the proof lines, a blank line, the signed checkpoint.
    public func submit(note: Note, oldSize: UInt64, proof: [LogHash]) async throws(WitnessClientError) -> Answer {
        let body = "old \(oldSize)\n" + proof.map { $0.base64 + "\n" }.joined() + "\n" + note.serialized
        let base = url.absoluteString.hasSuffix("/") ? String(url.absoluteString.dropLast()) : url.absoluteString
        guard let endpoint = URL(string: base + "/add-checkpoint") else { throw .transport("bad witness URL \(url)") }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.timeoutInterval = timeout
        request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let status: Int, text: String
        do {
            let (data, response) = try await HTTPGet.uncancellable(request)
            guard let http = response as? HTTPURLResponse else { throw WitnessClientError.transport("not an HTTP response") }
            status = http.statusCode
            text = String(decoding: data, as: UTF8.self)
        } catch let e as WitnessClientError {
            throw e
        } catch {
            throw .transport("\(endpoint): \(error.localizedDescription)")
        }
        switch status {
        case 200:
            var sigs: [NoteSignature] = []
            for line in text.split(separator: "\n") {
                do { sigs.append(try NoteSignature(line: line)) } catch { throw .malformedAnswer("\(error)") }
            }
            guard !sigs.isEmpty else { throw .malformedAnswer("200 without cosignature lines") }
            return .cosigned(sigs)
        case 409:
            let t = text.hasSuffix("\n") ? text.dropLast() : Substring(text)
            guard let n = UInt64(t) else { throw .malformedAnswer("409 body '\(text.prefix(40))' is not a tree size") }
            return .conflict(knownSize: n)
        default:
            return .refused(status: status, message: text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Gets `note` cosigned: starts from `knownSize` (the size last cosigned, 0 if unknown), re-proves once after a 409.
    /// `prove(m)` returns the consistency proof from size m to the note's size.
    public func cosign(note: Note, knownSize: UInt64, prove: (UInt64) throws -> [LogHash]) async throws(WitnessClientError) -> (signatures: [NoteSignature], oldSize: UInt64) {
        let size: UInt64
        do { size = try Checkpoint(text: note.text).size } catch { throw .malformedAnswer("the note is not a checkpoint: \(error)") }
        var old = min(knownSize, size)
        for _ in 0..<2 {
            let proof: [LogHash]
            do { proof = old == 0 ? [] : try prove(old) } catch { throw .transport("cannot build a consistency proof from \(old): \(error)") }
            switch try await submit(note: note, oldSize: old, proof: proof) {
            case .cosigned(let sigs): return (sigs, old)
            case .conflict(let known):
                guard known <= size else { throw .witnessAhead(known: known, size: size) }
                old = known
            case let .refused(status, message): throw .refused(status: status, message: message)
            }
        }
        throw .refused(status: 409, message: "the witness's size changed twice while submitting")
    }
}

/// Why a witness did not cosign.
public enum WitnessClientError: Error, Equatable, CustomStringConvertible {
    /// The witness could not be reached.
    case transport(String)
    /// The witness answered something that is not tlog-witness.
    case malformedAnswer(String)
    /// The witness refused (400/403/404/422/…).
    case refused(status: Int, message: String)
    /// The witness has cosigned a larger tree than this checkpoint: publish a newer checkpoint (or the log forked).
    case witnessAhead(known: UInt64, size: UInt64)

    public var description: String {
        switch self {
        case .transport(let m): return "cannot reach the witness: \(m)"
        case .malformedAnswer(let m): return "the witness's answer is malformed: \(m)"
        case let .refused(s, m): return "the witness refused with \(s): \(m)"
        case let .witnessAhead(k, n): return "the witness has already cosigned size \(k) > \(n); append and publish a newer checkpoint"
        }
    }
}
