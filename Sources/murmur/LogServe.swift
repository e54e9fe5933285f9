import ArgumentParser
import Foundation
import MurmurLog
import MurmurLogHTTP

/// Reads a verifier key given inline (`name+id+base64`) or as a file holding one.
func readVerifierKey(_ arg: String) throws -> VerifierKey {
    let text = FileManager.default.fileExists(atPath: arg) ? try String(contentsOfFile: arg, encoding: .utf8) : arg
    return try VerifierKey(text)
}

/// Writes a line to standard output immediately (a parent process may be waiting for it on a pipe).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// `--listen HOST:PORT` parsed, with a default.
func listenAddress(_ s: String) throws -> (host: String, port: Int) {
    guard let a = LogServer.listenAddress(s) else { throw ValidationError("--listen takes HOST:PORT, :PORT or PORT (0 picks a free port), got '\(s)'") }
    return a
}

struct LogServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a log's checkpoint, tiles and entry bundles over HTTP (c2sp.org/tlog-tiles).",
        discussion: """
            Serves GET /checkpoint (the latest published checkpoint, with cosignatures),
            GET /tile/<L>/<N>[.p/<W>] and GET /tile/entries/<N>[.p/<W>]. Entries appended by
            `murmur log append` in another process are served as they are committed; publish them with
            `murmur log checkpoint DIR`. Prints the URL, serves until SIGINT or SIGTERM, then exits 0.
            Example: `murmur log serve ./mylog --listen 127.0.0.1:8080` and, elsewhere,
            `murmur log verify --url http://127.0.0.1:8080 --log-key ./mylog/log.vkey --index 0 --entry-file e0`.
            """)

    @Argument(help: "The log directory (from `murmur log init`).")
    var dir: String

    @Option(help: "Address to listen on: HOST:PORT, :PORT or PORT; port 0 picks a free one.")
    var listen = "127.0.0.1:8080"

    func run() async throws {
        let (host, port) = try listenAddress(listen)
        let resources = try LogResources(directory: LogDirectory(path: dir))
        try await LogServer.run(router: LogRoutes.router(log: resources, witness: nil), host: host, port: port, untilSignal: true) { bound in
            emit("serving \(dir) at http://\(host):\(bound)")
        }
        FileHandle.standardError.write(Data("stopped\n".utf8))
    }
}

struct LogWitness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a witness (c2sp.org/tlog-witness), or get a log's checkpoint cosigned by one.",
        discussion: """
            A witness cosigns a log's checkpoint only after checking a consistency proof from the last
            checkpoint it cosigned, so a log cannot show different histories to different people.
              murmur log witness init ./w1 --name witness.example/w1     # prints the witness key
              murmur log witness serve ./w1 --log-key ./mylog/log.vkey --listen 127.0.0.1:8081
              murmur log witness add ./mylog --witness http://127.0.0.1:8081 --witness-key ./w1/witness.vkey
              murmur log checkpoint ./mylog                              # now carries the cosignature
            """,
        subcommands: [WitnessInit.self, WitnessServe.self, WitnessAdd.self]
    )
}

struct WitnessInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a witness: WDIR/witness.key (secret), WDIR/witness.vkey, WDIR/state/.")

    @Argument(help: "The witness directory (created).")
    var dir: String

    @Option(help: "The witness's name, e.g. witness.example/w1; also its key name.")
    var name: String

    func run() throws {
        print(try WitnessDirectory.create(path: dir, name: name).verifierKey())
    }
}

struct WitnessServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve POST /add-checkpoint for the logs given by --log-key, until SIGINT or SIGTERM.",
        discussion: """
            Answers 200 with a cosignature/v1 line, 409 (text/x.tlog.size) with the size it last
            cosigned, 400/403/404/422 per c2sp.org/tlog-witness. The last cosigned checkpoint of each
            log is stored in WDIR/state before the answer is sent, so a restart keeps it; evidence of
            equivocation is written to WDIR/evidence.
            """)

    @Argument(help: "The witness directory (from `murmur log witness init`).")
    var dir: String

    @Option(name: .customLong("log-key"), help: "A log's verifier key (or a file with it); repeat for several logs.")
    var logKeys: [String] = []

    @Option(help: "Address to listen on: HOST:PORT, :PORT or PORT; port 0 picks a free one.")
    var listen = "127.0.0.1:8081"

    func run() async throws {
        guard !logKeys.isEmpty else { throw ValidationError("name at least one log with --log-key KEY (e.g. --log-key ./mylog/log.vkey)") }
        let (host, port) = try listenAddress(listen)
        let keys = try logKeys.map(readVerifierKey)
        let service = try WitnessService(directory: WitnessDirectory(path: dir), logs: keys)
        try await LogServer.run(router: LogRoutes.router(log: nil, witness: service), host: host, port: port, untilSignal: true) { bound in
            emit("witness \(dir) at http://\(host):\(bound)")
        }
        FileHandle.standardError.write(Data("stopped\n".utf8))
    }
}

struct WitnessAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Publish the log's checkpoint, get it cosigned by a witness, store the cosignature with it.",
        discussion: "Afterwards `murmur log checkpoint DIR` and GET /checkpoint return the cosigned note.")

    @Argument(help: "The log directory.")
    var dir: String

    @Option(help: "The witness's URL prefix, e.g. http://127.0.0.1:8081.")
    var witness: String

    @Option(help: "The witness's verifier key (or a file with it); its cosignature is checked before it is stored.")
    var witnessKey: String

    func run() async throws {
        guard let url = URL(string: witness), url.scheme != nil else { throw ValidationError("--witness must be a URL such as http://127.0.0.1:8081") }
        let wkey = try readVerifierKey(witnessKey)
        let d = LogDirectory(path: dir)
        let log = try d.open()
        let note = try log.checkpoint(signer: d.signer())
        let (sigs, old) = try await WitnessClient(url: url).cosign(note: note, knownSize: 0) { m in try log.consistencyProof(from: m) }
        let cosigned = try log.addCosignatures(sigs, size: log.size, witnesses: [wkey])
        guard cosigned.signatures.contains(where: { $0.name == wkey.name && $0.keyID == wkey.keyID }) else {
            throw ValidationError("the witness answered, but not with a cosignature by \(wkey.name)")
        }
        print("cosigned by \(wkey.name): size \(log.size) (witness was at \(old))")
    }
}
