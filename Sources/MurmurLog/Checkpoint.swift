/// A C2SP tlog-checkpoint body: origin line, decimal tree size, base64 root hash, optional extension lines.
/// It is the text of the signed note a log publishes (c2sp.org/tlog-checkpoint).
public struct Checkpoint: Sendable, Equatable, Hashable {
    /// The log's origin (unique name, e.g. `example.com/log42`).
    public var origin: String
    /// The number of entries.
    public var size: UInt64
    /// MTH(D[0:size]).
    public var root: LogHash
    /// Opaque, non-empty extension lines (not recommended by the spec; kept verbatim).
    public var extensions: [String]

    /// A checkpoint from its fields.
    public init(origin: String, size: UInt64, root: LogHash, extensions: [String] = []) {
        self.origin = origin; self.size = size; self.root = root; self.extensions = extensions
    }

    /// The note text: three lines (plus extensions), each ending in a newline.
    public var text: String {
        ([origin, String(size), root.base64] + extensions).map { $0 + "\n" }.joined()
    }

    /// Parses note text; the size has no leading zeros and the root is 32 bytes of base64.
    public init(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformedCheckpoint("the body must end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3 else { throw .malformedCheckpoint("needs origin, size and root hash lines") }
        guard !lines[0].isEmpty else { throw .malformedCheckpoint("empty origin line") }
        let s = lines[1]
        guard !s.isEmpty, s.allSatisfy({ $0 >= "0" && $0 <= "9" }), s == "0" || s.first != "0", let size = UInt64(s) else {
            throw .malformedCheckpoint("tree size '\(s)' is not a decimal without leading zeros")
        }
        guard let root = LogHash(base64: lines[2]) else { throw .malformedCheckpoint("root hash is not base64 of 32 bytes") }
        let ext = Array(lines.dropFirst(3))
        guard !ext.contains(where: \.isEmpty) else { throw .malformedCheckpoint("extension lines must be non-empty") }
        self.init(origin: lines[0], size: size, root: root, extensions: ext)
    }

    /// Parses a signed note, verifies it with `verifiers`, and reads its checkpoint.
    public static func open(_ note: Note, verifiers: [any NoteVerifier]) throws(NoteError) -> Checkpoint {
        try note.verify(verifiers)
        return try Checkpoint(text: note.text)
    }
}
