import Foundation
import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurNode

@Suite("Node configuration files")
struct ConfigFileTests {
    static let peer = Identity().peerID.description

    func write(_ text: String, name: String) -> (dir: String, file: String) {
        let dir = temporaryFolder("config")
        let file = dir + "/" + name
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return (dir, file)
    }

    @Test("every key from TOML; relative paths resolve against the file's folder")
    func fullTOML() throws {
        let (dir, file) = write("""
            # a client and verifier
            roles = ["client", "verifier", "log-operator"]
            data_dir = "n1"
            listen = "/ip4/127.0.0.1/tcp/4001"
            bootstrap = ["/ip4/127.0.0.1/tcp/4002/p2p/\(Self.peer)"]
            http_host = "127.0.0.1"
            http_port = 8080
            admin_token = "0123456789abcdef0123"
            identity_file = "keys/id.key"
            max_body_bytes = 4096
            log_origin = "example.com/node1"
            """, name: "node.toml")
        defer { cleanup(dir) }
        let c = try ConfigFile.load(file)
        #expect(c.roles == [.client, .verifier, .logOperator])
        #expect(c.dataDir == dir + "/n1")
        #expect(c.identityPath == dir + "/keys/id.key")
        #expect(c.listen == "/ip4/127.0.0.1/tcp/4001")
        #expect(c.bootstrap.count == 1)
        #expect(c.httpPort == 8080)
        #expect(c.adminToken == "0123456789abcdef0123")
        #expect(c.maxBodyBytes == 4096)
        #expect(c.logOrigin == "example.com/node1")
        #expect(c.databasePath == dir + "/n1/node.sqlite")
    }

    @Test("JSON gives the same configuration as TOML")
    func json() throws {
        let (d1, toml) = write("roles = [\"aggregator\", \"witness\"]\nhttp_port = 9000\ndata_dir = \"/tmp/x\"\n", name: "a.toml")
        let (d2, json) = write("{\"roles\": [\"aggregator\", \"witness\"], \"http_port\": 9000, \"data_dir\": \"/tmp/x\"}", name: "a.json")
        defer { cleanup(d1); cleanup(d2) }
        #expect(try ConfigFile.load(toml) == ConfigFile.load(json))
    }

    @Test("an empty file is the defaults")
    func defaults() throws {
        let (dir, file) = write("", name: "empty.toml")
        defer { cleanup(dir) }
        let c = try ConfigFile.load(file)
        #expect(c.roles == [.client] && c.httpPort == 0 && c.listen == "/ip4/127.0.0.1/tcp/0" && c.adminToken == nil)
    }

    /// Each bad file fails with an error naming the file and the key.
    @Test("errors name the file and the key", arguments: [
        ("htp_port = 1\n", "htp_port", "unknown setting"),
        ("http-port = 1\n", "http-port", "did you mean 'http_port'"),
        ("http_port = \"80\"\n", "http_port", "must be an integer"),
        ("http_port = 70000\n", "http_port", "is not a port"),
        ("roles = [\"client\", \"miner\"]\n", "roles", "unknown role 'miner'"),
        ("roles = []\n", "roles", "at least one"),
        ("roles = \"client\"\n", "roles", "must be a list of strings"),
        ("listen = \"127.0.0.1:4001\"\n", "listen", "not a TCP multiaddr"),
        ("bootstrap = [\"/ip4/127.0.0.1/tcp/4002\"]\n", "bootstrap", "/p2p/"),
        ("admin_token = \"short\"\n", "admin_token", "at least 16"),
        ("data_folder = \"/nonexistent/murmur\"\n", "data_folder", "not a directory"),
        ("max_body_bytes = 10\n", "max_body_bytes", "outside"),
    ])
    func errors(text: String, key: String, message: String) throws {
        let (dir, file) = write(text, name: "bad.toml")
        defer { cleanup(dir) }
        do {
            _ = try ConfigFile.load(file)
            Issue.record("\(text) was accepted")
        } catch {
            guard case .config(let source, let k, let m) = error else { Issue.record("wrong error \(error)"); return }
            #expect(source == file)
            #expect(k == key)
            #expect(m.contains(message), "\(m)")
            #expect(error.description.hasPrefix(file + ": '\(key)'"))
        }
    }

    @Test("TOML syntax errors give the line; fractional numbers and non-tables are refused")
    func syntax() throws {
        let (dir, file) = write("roles = [\"client\"]\nhttp_port = = 3\n", name: "broken.toml")
        defer { cleanup(dir) }
        #expect(throws: NodeError.self) { try ConfigFile.load(file) }
        do { _ = try ConfigFile.load(file) } catch {
            guard case .configFile(let source, let m) = error else { Issue.record("wrong error \(error)"); return }
            #expect(source == file && m.contains("line 2"), "\(m)")
        }
        let (d2, f2) = write("http_port = 1.5\n", name: "float.toml")
        defer { cleanup(d2) }
        #expect(throws: NodeError.self) { try ConfigFile.load(f2) }
        let (d3, f3) = write("[1, 2]", name: "list.json")
        defer { cleanup(d3) }
        #expect(throws: NodeError.configFile(source: f3, message: "the top level must be a table of settings")) { try ConfigFile.load(f3) }
        #expect(throws: NodeError.self) { try ConfigFile.load(dir + "/missing.toml") }
    }

    @Test("the example configuration in docs/node.md loads")
    func docsExample() throws {
        let doc = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/node.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "cat > node.toml <<'EOF'\n"))
        let end = try #require(doc.range(of: "\nEOF\n", range: start.upperBound..<doc.endIndex))
        let (dir, file) = write(String(doc[start.upperBound..<end.lowerBound]), name: "node.toml")
        defer { cleanup(dir) }
        _ = try writeTestModel(to: dir + "/run1")  // the example serves the model `murmur simulate --out run1` writes
        let c = try ConfigFile.load(file)
        #expect(c.roles == [.client, .verifier] && c.httpPort == 8080 && c.models == [dir + "/run1"] && c.dataDir == dir + "/node1")
    }
}
