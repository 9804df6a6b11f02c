/// A loadable segment (`PT_LOAD` program header): the file bytes the loader maps at a virtual
/// address.
struct LoadSegment: Equatable {
    /// `p_vaddr`: where the segment starts in memory, relative to the load base for PIE
    /// executables and shared libraries, absolute for other executables.
    let virtualAddress: UInt64
    /// `p_offset`: where its bytes start in the file.
    let fileOffset: UInt64
    /// `p_filesz`: how many bytes of it come from the file (the rest, up to `p_memsz`, is zeroed
    /// memory such as `.bss`).
    let fileSize: UInt64

    /// The file offset of `address` when it lies in this segment's file bytes:
    /// `address - p_vaddr + p_offset`.
    func fileOffset(of address: UInt64) -> UInt64? {
        guard address >= virtualAddress, address - virtualAddress < fileSize else { return nil }
        return address - virtualAddress + fileOffset
    }
}
