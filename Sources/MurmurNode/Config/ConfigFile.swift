import Foundation
import MurmurCore
import TOMLKit

/// Reads a node configuration file: TOML (`.toml`) or JSON (`.json`; other names are sniffed by the first character).
/// Why: every error names the file and the key (unknown keys, wrong types, bad values), so a typo never passes silently.
public enum ConfigFile {
    /// Loads `path` over the defaults, resolves relative paths against the file's folder, and validates.
    public static func load(_ path: String) throws(NodeError) -> NodeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .configFile(source: path, message: "cannot read the file (does it exist?)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let isJSON = path.hasSuffix(".json") || (!path.hasSuffix(".toml") && text.drop(while: \.isWhitespace).first == "{")
        let value = try isJSON ? parseJSON(text, source: path) : parseTOML(text, source: path)
        var config = try decode(value, source: path)
        config.resolvePaths(relativeTo: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        try config.validate(source: path)
        return config
    }

    /// Parses TOML text (toml.io v1.0.0) into the JSON value the keys are read from.
    public static func parseTOML(_ text: String, source: String) throws(NodeError) -> JSONValue {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw .configFile(source: source, message: "not valid TOML at line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        } catch {
            throw .configFile(source: source, message: "not valid TOML: \(error)")
        }
        // toml++ renders the table as JSON; integers stay integers, floats and dates are refused below.
        return try parseJSON(table.convert(to: .json, options: [.quoteDateAndTimes]), source: source)
    }

    /// Parses JSON text into a value (integers only; a configuration has no fractional settings).
    public static func parseJSON(_ text: String, source: String) throws(NodeError) -> JSONValue {
        do { return try CanonicalJSON.parse(Array(text.utf8)) } catch {
            throw .configFile(source: source, message: "not valid JSON (or a fractional number, which no setting takes): \(error)")
        }
    }

    /// Applies the keys of a parsed file to the defaults; unknown keys and wrong types are errors.
    public static func decode(_ value: JSONValue, source: String) throws(NodeError) -> NodeConfig {
        guard case .object(let o) = value else { throw .configFile(source: source, message: "the top level must be a table of settings") }
        var c = NodeConfig()
        for key in o.keys.sorted() {
            guard let v = o[key] else { continue }
            func fail(_ m: String) -> NodeError { .config(source: source, key: key, message: m) }
            func string() throws(NodeError) -> String {
                guard case .string(let s) = v else { throw fail("must be a string, got \(typeName(v))") }
                return s
            }
            func strings() throws(NodeError) -> [String] {
                guard case .array(let a) = v else { throw fail("must be a list of strings, got \(typeName(v))") }
                var out = [String]()
                for e in a {
                    guard case .string(let s) = e else { throw fail("must be a list of strings, found \(typeName(e))") }
                    out.append(s)
                }
                return out
            }
            func integer() throws(NodeError) -> Int {
                guard case .integer(let i) = v, let n = Int(exactly: i) else { throw fail("must be an integer, got \(typeName(v))") }
                return n
            }
            switch key {
            case "roles":
                var roles = [NodeRole]()
                for name in try strings() {
                    guard let r = NodeRole(rawValue: name) else {
                        throw fail("unknown role '\(name)'; roles are \(NodeRole.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    roles.append(r)
                }
                c.roles = roles
            case "data_dir": c.dataDir = try string()
            case "listen": c.listen = try string()
            case "bootstrap": c.bootstrap = try strings()
            case "http_host": c.httpHost = try string()
            case "http_port": c.httpPort = try integer()
            case "admin_token": c.adminToken = try string()
            case "identity_file": c.identityFile = try string()
            case "data_folder": c.dataFolder = try string()
            case "models": c.models = try strings()
            case "max_body_bytes": c.maxBodyBytes = try integer()
            case "log_origin": c.logOrigin = try string()
            case "witness_logs": c.witnessLogs = try strings()
            case "federation": c.federation = try string()
            case "client_index": c.clientIndex = try integer()
            case "aggregator": c.aggregator = try string()
            case "clients": c.clients = try strings()
            case "federation_log": c.federationLog = try string()
            case "witnesses": c.witnesses = try strings()
            case "witness_quorum": c.witnessQuorum = try integer()
            case "spot_check_interval": c.spotCheckInterval = try integer()
            case "spot_check_percent": c.spotCheckPercent = try integer()
            default:
                let near = NodeConfig.keys.first { $0.replacingOccurrences(of: "_", with: "") == key.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "") }
                throw .config(source: source, key: key, message: "unknown setting" + (near.map { "; did you mean '\($0)'?" } ?? "; settings are \(NodeConfig.keys.joined(separator: ", "))"))
            }
        }
        return c
    }

    static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool(let b): "a boolean (\(b))"
        case .integer(let i): "an integer (\(i))"
        case .string(let s): "a string (\"\(s.prefix(40))\")"
        case .array: "a list"
        case .object: "a table"
        }
    }
}

extension NodeConfig {
    /// Makes the file-system settings absolute against `base` (a config file's folder), as a user reading the file expects.
    mutating func resolvePaths(relativeTo base: String) {
        func abs(_ p: String) -> String { p.hasPrefix("/") ? p : (base as NSString).appendingPathComponent(p) }
        dataDir = abs(dataDir)
        identityFile = identityFile.map(abs)
        dataFolder = dataFolder.map(abs)
        models = models.map(abs)
        federation = federation.map(abs)
    }
}
