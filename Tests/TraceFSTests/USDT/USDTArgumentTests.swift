import Testing
@_spi(Tools) @testable import TraceFS

/// Each form of a `sys/sdt.h` argument, parsed and translated to a fetch argument, without a
/// kernel or a file.
@Suite struct USDTArgumentTests {
    static let forms: [(spec: String, fetch: String?, userString: String?)] = [
        ("-4@%edi", "%di:s32", nil),
        ("8@%rdi", "%di:u64", "+0(%di):ustring"),
        ("8@%rax", "%ax:u64", "+0(%ax):ustring"),
        ("2@%di", "%di:u16", nil),
        ("1@%dil", "%di:u8", nil),
        ("-1@%al", "%ax:s8", nil),
        ("-8@%r12d", "%r12:s64", "+0(%r12):ustring"),
        ("4@%r8w", "%r8:u32", nil),
        ("-4@%r15b", "%r15:s32", nil),
        ("8@-80(%rbx)", "-80(%bx):u64", "+0(-80(%bx)):ustring"),
        ("8@8(%rsp)", "+8(%sp):u64", "+0(+8(%sp)):ustring"),
        ("-4@112(%rsp)", "+112(%sp):s32", nil),
        ("8@(%rax)", "+0(%ax):u64", "+0(+0(%ax)):ustring"),
        ("4@0x10(%rbp)", "+16(%bp):u32", nil),
        ("-4@$5", "\\5:s32", nil),
        ("8@$-3", "\\-3:u64", nil),
        ("%rdi", "%di:u64", "+0(%di):ustring"),
    ]

    @Test(arguments: forms.indices)
    func aFormBecomesItsFetchArgument(index: Int) {
        let form = Self.forms[index]
        let argument = USDTArgument(Substring(form.spec))
        #expect(argument.fetchArgument == form.fetch, "\(form.spec): \(argument.refusal ?? "")")
        #expect(argument.userStringFetchArgument == form.userString, "\(form.spec)")
        #expect(argument.refusal == nil)
    }

    @Test func sizesAndSigns() {
        let signed = USDTArgument("-4@%edi")
        #expect(signed.size == 4 && signed.isSigned && signed.fetchType == "s32")
        #expect(signed.operand == .register("di"))
        let memory = USDTArgument("8@-80(%rbx)")
        #expect(memory.size == 8 && !memory.isSigned)
        #expect(memory.operand == .memory(base: "bx", offset: -80))
        #expect(USDTArgument("-4@$5").operand == .constant(5))
        #expect(USDTArgument("8@foo+8(%rip)").operand == .global(symbol: "foo", offset: 8))
        #expect(USDTArgument("8@foo(%rip)").operand == .global(symbol: "foo", offset: 0))
        #expect(USDTArgument("4@swtf_global-0x4(%rip)").operand == .global(symbol: "swtf_global", offset: -4))
    }

    @Test func aGlobalIsReadThroughTheProbesMapping() {
        let argument = USDTArgument("8@foo(%rip)") { symbol, offset in
            #expect(symbol == "foo" && offset == 0)
            return .success(0x4010)
        }
        #expect(argument.fetchArgument == "@+0x4010:u64")
        #expect(argument.userStringFetchArgument == "+0(@+0x4010):ustring")
        let missing = USDTArgument("8@bar(%rip)") { _, _ in .failure(USDTRefusal("no bar")) }
        #expect(missing.fetchArgument == nil)
        #expect(missing.refusal == "no bar")
    }

    static let refused: [(spec: String, reason: String)] = [
        ("1@%ah", "second byte"),
        ("8@%xmm0", "not a general-purpose register"),
        ("8@(%rax,%rbx,8)", "indexed addressing"),
        ("8@-8(%rbp,%rax,4)", "indexed addressing"),
        ("8@16(%rip)", "relative to %rip"),
        ("4@$foo", "not a number"),
        ("8@0x1234", "absolute address"),
        ("3@%rdi", "not 1, 2, 4 or 8"),
        ("16@%rdi", "not 1, 2, 4 or 8"),
        ("8@foo(%rbx)", "not a number"),
    ]

    @Test(arguments: refused.indices)
    func aFormTheKernelCannotFetchIsRefusedWithAReason(index: Int) {
        let form = Self.refused[index]
        let argument = USDTArgument(Substring(form.spec))
        #expect(argument.fetchArgument == nil)
        #expect(argument.userStringFetchArgument == nil)
        #expect(argument.refusal?.contains(form.reason) == true, "\(form.spec): \(argument.refusal ?? "nil")")
        #expect(argument.refusal?.hasPrefix(form.spec) == true)
    }

    @Test func onlyPointerSizedValuesAreUserStrings() {
        #expect(USDTArgument("-4@%edi").userStringRefusal?.contains("not a pointer") == true)
        #expect(USDTArgument("8@$5").userStringRefusal?.contains("constant") == true)
    }

    @Test func anotherMachinesOperandsAreNotRead() {
        let argument = USDTArgument("-4@x0", isX86_64: false)
        #expect(argument.fetchArgument == nil)
        #expect(argument.refusal?.contains("only x86-64") == true)
        #expect(argument.size == 4 && argument.isSigned)
    }
}
