import Testing
import TraceFS

@Suite struct EventNameTests {
    @Test(arguments: ["open", "_x", "do_sys_openat2", "A1_b2", String(repeating: "a", count: 63)])
    func acceptsCIdentifiers(name: String) {
        #expect(EventName.isValid(name))
    }

    @Test(arguments: ["", "1abc", "a-b", "a/b", "a.b", "a b", "a\nb", "-:x", "é", String(repeating: "a", count: 64), "a#b", "#"])
    func rejectsEverythingElse(name: String) {
        #expect(!EventName.isValid(name))
    }

    @Test func sanitizesSymbolsIntoValidNames() {
        #expect(EventName.sanitized("foo.isra.0") == "foo_isra_0")
        #expect(EventName.sanitized("do_sys_open+0x10") == "do_sys_open_0x10")
        #expect(EventName.sanitized("ext4:ext4_sync_fs") == "ext4_ext4_sync_fs")
        #expect(EventName.sanitized("0day") == "_0day")
        #expect(EventName.sanitized("") == "_")
        #expect(EventName.sanitized("ünï") == "_n_")
        #expect(EventName.maximumLength == 63)
        #expect(EventName.sanitized(String(repeating: "x", count: 100)).count == 63)
        #expect(EventName.sanitized("a#b") == "a_b")
        for input in ["foo.isra.0", "a\nb", "", "9", "p:x/evil", String(repeating: "é", count: 70)] {
            #expect(EventName.isValid(EventName.sanitized(input)), "\(input)")
        }
    }
}
