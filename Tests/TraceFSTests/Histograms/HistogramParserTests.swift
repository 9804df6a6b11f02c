import Testing
import TraceFS

/// The `hist` parser on output captured from the guest's 6.1 kernel (Fixtures/hist-*-6.1.txt),
/// one file per key modifier.
struct HistogramParserTests {
    /// Every fixture: as many rows as the kernel's Entries, hitcounts adding up to its Hits.
    @Test(arguments: ["execname", "syscall", "sym", "symoffset", "log2", "buckets", "hex", "string", "stacktrace",
                      "twokeys", "usecs", "tsusecs"])
    func rowsAndTotalsAgree(name: String) throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-\(name)-6.1.txt"))
        #expect(UInt64(table.rows.count) == table.totals.entries)
        #expect(table.rows.reduce(0) { $0 + $1.hitCount } == table.totals.hits)
        #expect(table.totals.dropped == 0)
        #expect(!table.isPaused)
        #expect(table.rows.allSatisfy { $0.keys.count == table.keys.count })
    }

    @Test func execnameKeysAreCommandAndPID() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-execname-6.1.txt"))
        #expect(table.keys == [HistogramKeySpecFixture.spec("common_pid", "execname")])
        #expect(table.rows.first?.key("common_pid") == .execname(command: "cat", pid: 116))
        #expect(table.rows.last?.key("common_pid") == .execname(command: "ls", pid: 115))
        #expect(table.rows.last?.hitCount == 10)
        #expect(table.trigger == "hist:keys=common_pid.execname:vals=hitcount:sort=hitcount:size=2048")
    }

    @Test func syscallKeysAreNameAndNumber() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-syscall-6.1.txt"))
        #expect(table.rows.first?.key("id") == .syscall(name: "sys_getxattr", number: 191))
        #expect(table.rows.contains { $0.key("id") == .syscall(name: "sys_read", number: 0) && $0.hitCount == 23 })
    }

    @Test func symbolKeysHaveAddressNameAndModule() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-sym-6.1.txt"))
        let first = try #require(table.rows.first)
        #expect(first.key("call_site") == .symbol(address: 0xffffffffc02ed0af, name: "p9_fcall_init", module: "9pnet"))
        #expect(first.value("bytes_req") == 7605630)
        #expect(first.value("bytes_alloc") == 7620416)
        #expect(table.rows[1].key("call_site") == .symbol(address: 0xffffffff9b0acc7f, name: "kvmalloc_node", module: nil))
    }

    @Test func symbolOffsetKeysHaveOffsetAndSize() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-symoffset-6.1.txt"))
        #expect(table.rows.first?.key("call_site")
            == .symbolOffset(address: 0xffffffff9b19c7d4, name: "do_getxattr", offset: 0x44, size: 0x150, module: nil))
        #expect(table.rows.contains {
            $0.key("call_site") == .symbolOffset(address: 0xffffffffc026d8a2, name: "p9_get_mapped_pages.part.0.constprop.0",
                                                 offset: 0x132, size: 0x2c0, module: "9pnet_virtio")
        })
    }

    @Test func log2KeysAreTheKernelsPowerOfTwoRanges() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-log2-6.1.txt"))
        let first = try #require(table.rows.first)
        #expect(first.key("bytes_req") == .log2(exponent: 19))
        #expect(first.key("bytes_req")?.range == 262_145...524_288)
        #expect(HistogramKeyValue.log2(exponent: 1).range == 2...2)
        #expect(HistogramKeyValue.log2(exponent: 0).range == 0...1)
    }

    @Test func linearBucketsAreRanges() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-buckets-6.1.txt"))
        #expect(table.keys.first?.bucketSize == 100)
        #expect(table.rows.first?.key("bytes_req") == .bucket(lower: 511_900, upper: 511_999))
        #expect(table.rows.last?.key("bytes_req")?.range == 0...99)
    }

    @Test func hexKeysAndValues() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-hex-6.1.txt"))
        #expect(table.rows.first?.key("call_site") == .hex(0xffffffff9b19c7d4))
        #expect(table.rows.first?.value("bytes_req") == 0xff)
        #expect(table.rows.last?.value("bytes_req") == 0x740d7e)
    }

    @Test func stringKeys() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-string-6.1.txt"))
        #expect(table.rows.map { $0.key("filename") } == [.string("/usr/bin/ls"), .string("/usr/bin/cat")])
    }

    @Test func stackTraceKeysAreFrames() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-stacktrace-6.1.txt"))
        guard case .stackTrace(let frames) = try #require(table.rows.first?.key("stacktrace")) else {
            Issue.record("not a stack trace")
            return
        }
        #expect(frames == ["do_getxattr+0x44/0x150", "getxattr+0x91/0xd0", "path_getxattr+0x7b/0xd0",
                           "do_syscall_64+0x5d/0xb0", "entry_SYSCALL_64_after_hwframe+0x6e/0xd8"])
        #expect(table.rows.first?.value("bytes_req") == 255)
    }

    @Test func twoKeysWithNameSortAndFilter() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-twokeys-6.1.txt"))
        #expect(table.trigger.hasPrefix("hist:name=twokeys:keys=common_pid.execname,bytes_req.log2:"))
        #expect(table.trigger.hasSuffix(" if bytes_req > 64"))
        let first = try #require(table.rows.first)
        #expect(first.keys == [HistogramKey(field: "common_pid", value: .execname(command: "sh", pid: 112)),
                               HistogramKey(field: "bytes_req", value: .log2(exponent: 7))])
        #expect(first.values == [HistogramValue(name: "hitcount", value: 4), HistogramValue(name: "bytes_alloc", value: 384)])
    }

    @Test func usecsValuesAndTimestampKeysAreNumbers() throws {
        let usecs = try HistogramTable.parse(try Fixture.text("hist-usecs-6.1.txt"))
        #expect(usecs.rows.first?.key("pid") == .number(154))
        #expect(usecs.rows.first?.value("old_pid") == 154)
        let timestamps = try HistogramTable.parse(try Fixture.text("hist-tsusecs-6.1.txt"))
        #expect(timestamps.rows.first?.key("common_timestamp") == .number(24_734_977))
    }

    struct Allocation: Decodable {
        let common_pid: String
        let bytes_req: Int
        let hitcount: Int
        let bytes_alloc: UInt64
    }

    struct Missing: Decodable {
        let bytes_freed: Int
    }

    struct Frames: Decodable {
        let common_pid: [String]
    }

    struct Pid: Decodable {
        let common_pid: Int32
    }

    @Test func rowsDecodeIntoDecodableTypes() throws {
        let table = try HistogramTable.parse(try Fixture.text("hist-twokeys-6.1.txt"))
        let first = try table.rows[0].decode(Allocation.self)
        #expect(first.common_pid == "sh")
        #expect(first.bytes_req == 128)  // log2 bucket 2^7: its upper bound
        #expect(first.hitcount == 4)
        #expect(first.bytes_alloc == 384)
        #expect(try table.rows[0].decode(Pid.self).common_pid == 112)
        let error = try #require(throws: TraceFSError.self) {
            _ = try table.rows[0].decode(Missing.self)
        }
        #expect(error.code == .decodingFailed)
        #expect(error.description.contains("it has common_pid, bytes_req, hitcount, bytes_alloc"), "\(error)")
        let stack = try #require(throws: TraceFSError.self) { _ = try table.rows[0].decode(Frames.self) }
        #expect(stack.code == .decodingFailed)
    }

    @Test func differencesSubtractRowsWithTheSameKeys() throws {
        let earlier = try HistogramTable.parse(try Fixture.text("hist-execname-6.1.txt"))
        #expect(earlier.difference(since: earlier).rows.isEmpty)
        #expect(earlier.difference(since: earlier).totals.hits == 0)
    }

    @Test func textThatIsNotAHistogramIsRefused() throws {
        #expect(try HistogramTable.parseAll("").isEmpty)
        let error = try #require(throws: TraceFSError.self) {
            _ = try HistogramTable.parse("# trigger info: hist:keys=pid:vals=hitcount [active]\n{ pid: x } hitcount: 1\n")
        }
        #expect(error.code == .decodingFailed)
    }
}

enum HistogramKeySpecFixture {
    static func spec(_ field: String, _ modifier: String?) -> HistogramKeySpec {
        HistogramTable.keySpec(field: field, modifier: modifier)
    }
}
