/// Reads a labelled table from a comma-separated file (RFC 4180 style; `.csv.gz` also accepted).
///
/// Use it to bring your own tabular data: every column but the label (and optional group) column
/// is a numeric feature; the group column gives a natural partition for `Partitioner.column`.
public enum CSVLoader {
    /// Loads `path`. A header row is detected automatically: the first row is a header when one
    /// of its cells is not a number while the cell below it is.
    ///
    /// - Parameters:
    ///   - labelColumn: header name, or 0-based index (negative counts from the end); default last.
    ///     Labels may be text; the distinct labels, sorted (numerically if all are numbers), become
    ///     classes 0..<k, so integer labels 0..<k keep their values.
    ///   - groupColumn: optional header name or index whose values, sorted the same way, become
    ///     `groups` 0..<g; the column is removed from the features.
    ///   - standardize: rescale each feature to mean 0 and standard deviation 1 over this file
    ///     (a constant column is only centred); default: features exactly as written.
    /// - Throws: `DataError` naming the line (and column) of a ragged row or a non-numeric cell.
    public static func load(
        path: String, labelColumn: String? = nil, groupColumn: String? = nil, standardize: Bool = false
    ) throws -> Dataset {
        try load(path: path, labelColumn: labelColumn, groupColumn: groupColumn, standardize: standardize, classCount: nil)
    }

    /// Like `load(path:labelColumn:groupColumn:standardize:)`, but with a fixed class count: labels
    /// must then be integers in `0..<classCount` and keep their values.
    ///
    /// Use it for a test file that may lack some classes, so its class ids match the training file's.
    public static func load(
        path: String, labelColumn: String? = nil, groupColumn: String? = nil, standardize: Bool = false,
        classCount: Int?
    ) throws -> Dataset {
        let bytes = try DataFile.bytes(path)
        return try parse(
            bytes, path: path, labelColumn: labelColumn, groupColumn: groupColumn, standardize: standardize,
            classCount: classCount)
    }

    /// The CSV parser proper, on a file's (decompressed) bytes; `path` is for names and messages.
    static func parse(
        _ bytes: [UInt8], path: String, labelColumn: String?, groupColumn: String?, standardize: Bool, classCount: Int?
    ) throws -> Dataset {
        if let k = classCount, k < 1 {
            throw DataError.invalidParameter(name: "classCount", value: "\(k)", expected: "at least 1")
        }
        let rows = CSVText.rows(bytes)
        guard let first = rows.first else { throw DataError.empty(path: path) }
        let columns = first.fields.count
        let hasHeader: Bool = {
            if rows.count == 1 { return first.fields.contains { CSVText.number($0) == nil } }
            let second = rows[1].fields
            return first.fields.indices.contains { c in
                CSVText.number(first.fields[c]) == nil && c < second.count && CSVText.number(second[c]) != nil
            }
        }()
        let header = hasHeader ? first.fields : nil
        let data = hasHeader ? rows.dropFirst() : rows[...]
        guard !data.isEmpty else { throw DataError.empty(path: path) }

        let label = try resolve(labelColumn ?? "-1", header: header, columns: columns)
        let group = try groupColumn.map { try resolve($0, header: header, columns: columns) }
        if group == label {
            throw DataError.invalidParameter(
                name: "groupColumn", value: groupColumn ?? "", expected: "a column other than the label column")
        }
        let featureColumns = (0..<columns).filter { $0 != label && $0 != group }
        guard !featureColumns.isEmpty else {
            throw DataError.corrupt(path: path, reason: "no feature columns left besides the label and group columns")
        }

        let d = featureColumns.count
        var features = [Float]()
        features.reserveCapacity(data.count * d)
        var labelCells = [String]()
        labelCells.reserveCapacity(data.count)
        var groupCells = [String]()
        for row in data {
            guard row.fields.count == columns else {
                throw DataError.raggedRow(path: path, line: row.line, expected: columns, found: row.fields.count)
            }
            for c in featureColumns {
                guard let v = CSVText.number(row.fields[c]) else {
                    throw DataError.nonNumeric(
                        path: path, line: row.line, column: c + 1, columnName: header?[c], value: row.fields[c])
                }
                features.append(Float(v))
            }
            labelCells.append(row.fields[label])
            if let g = group { groupCells.append(row.fields[g]) }
        }

        let labels: [Int32]
        let k: Int
        if let fixed = classCount {
            labels = try zip(labelCells, data).map { cell, row in
                guard let v = Int(cell), (0..<fixed).contains(v) else {
                    throw DataError.labelOutOfRange(path: path, line: row.line, label: cell, classCount: fixed)
                }
                return Int32(v)
            }
            k = fixed
        } else {
            (labels, k) = ordinalCodes(labelCells)
        }
        let groups = group == nil ? nil : ordinalCodes(groupCells).codes
        if standardize { standardizeColumns(&features, width: d) }
        return Dataset(
            name: DataFile.baseName(path), features: features, labels: labels, sampleShape: [d], classCount: k,
            groups: groups)
    }

    /// The column a user named: a header name first, else a 0-based (or negative) index.
    static func resolve(_ spec: String, header: [String]?, columns: Int) throws -> Int {
        let name = spec.trimmingSpaces
        if let header, let i = header.firstIndex(of: name) { return i }
        guard let i = Int(name) else { throw DataError.unknownColumn(name: name, available: header ?? []) }
        let j = i < 0 ? columns + i : i
        guard (0..<columns).contains(j) else { throw DataError.columnOutOfRange(index: i, columns: columns) }
        return j
    }

    /// Maps distinct values to 0..<k in sorted order: numeric order when every value is a
    /// number (so "2" < "10" and "1" == "1.0"), text order otherwise.
    static func ordinalCodes(_ cells: [String]) -> (codes: [Int32], count: Int) {
        let numbers = cells.map { CSVText.number($0) }
        if numbers.allSatisfy({ $0 != nil }) {
            let values = numbers.map { $0 ?? 0 }
            let distinct = Array(Set(values)).sorted()
            let code = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
            return (values.map { code[$0] ?? 0 }, distinct.count)
        }
        let distinct = Array(Set(cells)).sorted()
        let code = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
        return (cells.map { code[$0] ?? 0 }, distinct.count)
    }

    /// z-scores each of the `width` columns of the row-major `x` (population standard deviation).
    static func standardizeColumns(_ x: inout [Float], width: Int) {
        let n = x.count / width
        guard n > 0 else { return }
        x.withUnsafeMutableBufferPointer { p in
            for c in 0..<width {
                var sum = 0.0
                var sumSquares = 0.0
                for r in 0..<n {
                    let v = Double(p[r * width + c])
                    sum += v
                    sumSquares += v * v
                }
                let mean = sum / Double(n)
                let variance = max(0, sumSquares / Double(n) - mean * mean)
                let sd = variance.squareRoot()
                let scale = sd > 1e-12 * max(1, abs(mean)) ? 1 / sd : 1
                for r in 0..<n { p[r * width + c] = Float((Double(p[r * width + c]) - mean) * scale) }
            }
        }
    }
}

/// Splitting CSV bytes into rows of fields, and reading numbers.
enum CSVText {
    /// One non-blank line's fields, with its 1-based line number in the file.
    struct Row {
        let line: Int
        let fields: [String]
    }

    /// Rows of `bytes`: lines end at LF (a CR before it is dropped), blank lines are skipped, a
    /// UTF-8 byte order mark is ignored, fields are split at commas outside double quotes, and a
    /// quoted field loses its quotes ("" inside stands for "). Fields are trimmed of spaces.
    static func rows(_ bytes: [UInt8]) -> [Row] {
        var rows = [Row]()
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var stop = end
            if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
            let fields = split(bytes[start..<stop])
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append(Row(line: line, fields: fields)) }
            start = end + 1
            line += 1
        }
        return rows
    }

    private static func split(_ line: ArraySlice<UInt8>) -> [String] {
        var fields = [String]()
        var field = [UInt8]()
        var quoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let b = line[i]
            if quoted {
                if b == 0x22 {
                    if i + 1 < line.endIndex && line[i + 1] == 0x22 {
                        field.append(0x22)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(b)
                }
            } else if b == 0x22 {
                quoted = true
            } else if b == 0x2C {
                fields.append(String(decoding: field, as: UTF8.self).trimmingSpaces)
                field.removeAll(keepingCapacity: true)
            } else {
                field.append(b)
            }
            i += 1
        }
        fields.append(String(decoding: field, as: UTF8.self).trimmingSpaces)
        return fields
    }

    /// The finite number a cell holds, or nil ("", "abc", "nan" and "inf" are not numbers).
    static func number(_ cell: String) -> Double? {
        guard let v = Double(cell), v.isFinite else { return nil }
        return v
    }
}

fileprivate extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let a = firstIndex(where: { !isSpace($0) }), let b = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[a...b])
    }
}
