import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurML

/// CSV files: header detection, label and group columns, errors that name the line.
@Suite(.ownThreads) struct DataCSVLoaderTests {
    func load(
        _ text: String, label: String? = nil, group: String? = nil, standardize: Bool = false
    ) throws -> (Dataset, String) {
        let dir = try TempFolder()
        defer { dir.remove() }
        let path = try dir.write("t.csv", text: text)
        return (try CSVLoader.load(path: path, labelColumn: label, groupColumn: group, standardize: standardize), path)
    }

    @Test func withHeaderAndTextLabels() throws {
        let (d, _) = try load("x1,x2,species\n1,2,setosa\n3,4.5,virginica\n-1e-1,0,setosa\n")
        #expect(d.count == 3)
        #expect(d.sampleShape == [2])
        #expect(d.features == [1, 2, 3, 4.5, -0.1, 0])
        #expect(d.labels == [0, 1, 0])
        #expect(d.classCount == 2)
        #expect(d.name == "t.csv")
        #expect(d.groups == nil)
    }

    @Test func withoutHeader() throws {
        let (d, _) = try load("1,2,0\n3,4,2\n5,6,1")
        #expect(d.count == 3)
        #expect(d.features == [1, 2, 3, 4, 5, 6])
        #expect(d.labels == [0, 2, 1])
        #expect(d.classCount == 3)
    }

    @Test func numericLabelsSortNumerically() throws {
        // Distinct labels 1 < 2 < 10 (not "1" < "10" < "2"): codes 0, 1, 2.
        let (d, _) = try load("0.5,10\n0.25,2\n0.125,1\n")
        #expect(d.labels == [2, 1, 0])
    }

    @Test func labelByNameOrIndex() throws {
        let text = "a,y,b\n1,7,2\n3,8,4\n"
        let (byName, _) = try load(text, label: "y")
        #expect(byName.features == [1, 2, 3, 4])
        #expect(byName.labels == [0, 1])
        let (byIndex, _) = try load(text, label: "1")
        #expect(byIndex == byName)
        let (first, _) = try load(text, label: "0")
        #expect(first.features == [7, 2, 8, 4])
        let (last, _) = try load(text, label: "-1")
        #expect(last.features == [1, 7, 3, 8])
    }

    @Test func groupColumnIsRemovedAndCoded() throws {
        let (d, _) = try load("user,f,label\nbob,1,0\nalice,2,1\nbob,3,1\ncarol,4,0\n", group: "user")
        #expect(d.sampleShape == [1])
        #expect(d.features == [1, 2, 3, 4])
        #expect(d.groups == [1, 0, 1, 2])  // alice 0, bob 1, carol 2
        var rng = SeededRNG(seed: 0)
        #expect(try Partitioner.column.partition(d, clients: 3, rng: &rng) == [[1], [0, 2], [3]])
    }

    @Test func quotesCRLFBlankLinesAndBOM() throws {
        let (d, _) = try load("\u{FEFF}\"x, the first\",y\r\n\r\n\"1\",a\r\n 2 ,\"b\"\r\n")
        #expect(d.features == [1, 2])
        #expect(d.labels == [0, 1])
    }

    @Test func standardize() throws {
        let (d, _) = try load("a,b,y\n1,10,0\n2,10,1\n3,10,0\n", standardize: true)
        let a = [d.features[0], d.features[2], d.features[4]]
        #expect(abs(a.reduce(0, +)) < 1e-6)
        #expect(abs(a.map { $0 * $0 }.reduce(0, +) / 3 - 1) < 1e-5)
        #expect([d.features[1], d.features[3], d.features[5]] == [0, 0, 0])  // constant column: centred only
    }

    @Test func raggedRowNamesTheLine() throws {
        // Line 4 (the blank line 3 still counts) has two fields instead of three.
        do {
            _ = try load("a,b,y\n1,2,0\n\n3,4\n5,6,1\n")
            Issue.record("a ragged row was accepted")
        } catch let e as DataError {
            guard case .raggedRow(let path, 4, 3, 2) = e else { Issue.record("wrong error \(e)"); return }
            #expect(e.description.contains("\(path):4:"))
        }
    }

    @Test func nonNumericCellNamesLineAndColumn() throws {
        do {
            _ = try load("a,b,y\n1,2,0\n3,x,1\n")
            Issue.record("a non-numeric cell was accepted")
        } catch let e as DataError {
            guard case .nonNumeric(_, 3, 2, "b", "x") = e else { Issue.record("wrong error \(e)"); return }
            #expect(e.description.contains(":3:") && e.description.contains("column 2 (\"b\")"))
        }
        // No header: the empty cell of line 2 is reported without a name.
        #expect(throws: DataError.self) { try load("1,2,0\n,4,1\n") }
        #expect(throws: DataError.self) { try load("1,2,0\n3,nan,1\n") }
    }

    @Test func columnErrors() throws {
        #expect(throws: DataError.unknownColumn(name: "z", available: ["a", "y"])) { try load("a,y\n1,0\n", label: "z") }
        #expect(throws: DataError.unknownColumn(name: "z", available: [])) { try load("1,0\n", label: "z") }
        #expect(throws: DataError.columnOutOfRange(index: 5, columns: 2)) { try load("1,0\n", label: "5") }
        #expect(throws: DataError.self) { try load("a,y\n1,0\n", label: "y", group: "y") }
        #expect(throws: DataError.self) { try load("\n\n") }
        #expect(throws: DataError.self) { try load("a,b\n") }
    }

    @Test func fixedClassCount() throws {
        let dir = try TempFolder()
        defer { dir.remove() }
        let path = try dir.write("t.csv", text: "1,3\n2,5\n")
        let d = try CSVLoader.load(path: path, classCount: 10)
        #expect(d.labels == [3, 5] && d.classCount == 10)
        #expect(throws: DataError.labelOutOfRange(path: path, line: 2, label: "5", classCount: 4)) {
            try CSVLoader.load(path: path, classCount: 4)
        }
    }
}
