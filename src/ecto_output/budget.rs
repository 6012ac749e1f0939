//! How much of what remote output said is kept: one budget per list, shared by the
//! findings and the plan's lines, so that a chatty or hostile pod cannot make kmigrate hold
//! all it printed.

/// Most bytes one list keeps: some 100 000 status rows, far above any app's. What does
/// not fit is counted, not kept.
pub const MAX_LIST_BYTES: usize = 16 << 20;

/// How much a list holds, and how many items it left out for want of room.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Budget {
    /// Bytes taken so far.
    pub(crate) bytes: usize,
    pub(crate) left_out: u64,
}

impl Budget {
    /// Take room for `bytes` more, or count one more item left out.
    pub(crate) fn admit(&mut self, bytes: usize) -> bool {
        if self.bytes + bytes > MAX_LIST_BYTES {
            self.left_out += 1;
            return false;
        }
        self.bytes += bytes;
        true
    }
}
