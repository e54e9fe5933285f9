import Foundation

/// Reading a data file's bytes, transparently un-gzipping it when it starts with the gzip magic.
enum DataFile {
    /// The (decompressed) contents of the file at `path`.
    static func bytes(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw DataError.unreadable(path: path, reason: "it is a directory") }
        let raw: [UInt8]
        do {
            raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw DataError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        guard Gzip.isGzip(raw) else { return raw }
        do {
            return try Gzip.decompress(raw)
        } catch {
            throw DataError.corrupt(path: path, reason: error.reason)
        }
    }

    /// The last path component, for data set names.
    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
