/// Errors raised while loading, generating, splitting or partitioning data sets, each with a
/// message that says what is wrong and what to do about it.
///
/// Line and column numbers in messages count from 1, as text editors show them.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// No file exists at `path`.
    case fileNotFound(path: String)
    /// The file exists but could not be read (permissions, a directory, an I/O error).
    case unreadable(path: String, reason: String)
    /// An IDX file does not start with the expected magic number (MNIST format, LeCun et al.).
    case badMagic(path: String, expected: UInt32, found: UInt32)
    /// A binary file ends before the size its header promises.
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    /// A file is structurally invalid for another reason (bad gzip stream, count mismatch, …).
    case corrupt(path: String, reason: String)
    /// A file contains no data rows.
    case empty(path: String)
    /// A CSV row has a different number of fields from the first row.
    case raggedRow(path: String, line: Int, expected: Int, found: Int)
    /// A CSV feature cell is not a finite number.
    case nonNumeric(path: String, line: Int, column: Int, columnName: String?, value: String)
    /// A column was requested by a name the header does not have (or the file has no header).
    case unknownColumn(name: String, available: [String])
    /// A column index outside `0..<columns` (or `-columns..<0`).
    case columnOutOfRange(index: Int, columns: Int)
    /// A label is outside the declared `0..<classCount`.
    case labelOutOfRange(path: String, line: Int, label: String, classCount: Int)
    /// A partition cannot give every client at least one unit (sample, shard or group).
    case tooFewSamples(available: Int, needed: Int, unit: String)
    /// The `column` partitioner needs per-sample groups, and this data set has none.
    case missingGroups(dataset: String)
    /// A numeric parameter is outside its valid range.
    case invalidParameter(name: String, value: String, expected: String)
    /// A partitioner specification such as "dirichlet:0.5" could not be parsed.
    case unknownPartitioner(String)

    /// The message shown to users: what is wrong, where, and what to do.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "no such file: \(path) (check the path; relative paths start at the current folder)"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .badMagic(let path, let expected, let found):
            return "\(path): magic number is \(hex(found)), expected \(hex(expected)); "
                + "is this the right IDX file (images 0x00000803, labels 0x00000801)?"
        case .truncated(let path, let expected, let actual):
            return "\(path): truncated, header promises \(expected) bytes but the file has \(actual); download it again"
        case .corrupt(let path, let reason):
            return "\(path): \(reason)"
        case .empty(let path):
            return "\(path): no data rows"
        case .raggedRow(let path, let line, let expected, let found):
            return "\(path):\(line): \(found) fields, but the first row has \(expected); every row needs the same columns"
        case .nonNumeric(let path, let line, let column, let name, let value):
            let col = name.map { "column \(column) (\"\($0)\")" } ?? "column \(column)"
            return "\(path):\(line): \(col) is \"\(value)\", not a finite number; "
                + "features must be numeric (choose it as labelColumn or groupColumn if it is a label or group)"
        case .unknownColumn(let name, let available):
            if available.isEmpty {
                return "no column named \"\(name)\": the file has no header row; give a 0-based column index instead"
            }
            return "no column named \"\(name)\"; columns are: \(available.joined(separator: ", "))"
        case .columnOutOfRange(let index, let columns):
            return "column index \(index) is out of range: the file has \(columns) columns "
                + "(indices 0...\(columns - 1), or -1 for the last)"
        case .labelOutOfRange(let path, let line, let label, let classCount):
            return "\(path):\(line): label \"\(label)\" is not an integer in 0..<\(classCount); fix the label or the class count"
        case .tooFewSamples(let available, let needed, let unit):
            return "cannot give \(needed) clients one \(unit) each: only \(available) available; use fewer clients"
        case .missingGroups(let dataset):
            return "data set \"\(dataset)\" has no groups for the column partitioner; "
                + "load a CSV with groupColumn, use Synthetic data, or choose iid/dirichlet/shards"
        case .invalidParameter(let name, let value, let expected):
            return "\(name) = \(value) is invalid: expected \(expected)"
        case .unknownPartitioner(let text):
            return "unknown partitioner \"\(text)\": use iid, dirichlet:<alpha> (e.g. dirichlet:0.5), "
                + "shards:<per client> (e.g. shards:2) or column"
        }
    }
}

/// `0x00000803`-style rendering of a magic number.
private func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
