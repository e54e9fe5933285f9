import CFuzzDriver
import Foundation
import MurmurFuzz

// libFuzzer's entry points (`swift build -Xswiftc -sanitize=fuzzer`). SwiftPM aliases `main` to
// `murmur_fuzz_main`, which starts libFuzzer's driver (its own `main` is then not linked).
// MURMUR_FUZZ_TARGET picks the harness; MURMUR_FUZZ_SEEDS, if set, names a folder that is filled
// with the harness's seeds at start-up when it is empty.

nonisolated(unsafe) var selected: FuzzTarget = .varint

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let env = ProcessInfo.processInfo.environment
    guard let name = env["MURMUR_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("set MURMUR_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(64)
    }
    selected = target
    if let dir = env["MURMUR_FUZZ_SEEDS"] {
        let fm = FileManager.default
        try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if (try? fm.contentsOfDirectory(atPath: dir))?.isEmpty ?? true {
            for (i, seed) in target.seeds.enumerated() {
                _ = fm.createFile(atPath: "\(dir)/seed-\(i)", contents: Data(seed))
            }
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { selected.run([]); return 0 }
    selected.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_cdecl("murmur_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var args = argv
    return LLVMFuzzerRunDriver(&count, &args) { data, size in testOneInput(data, size) }
}
