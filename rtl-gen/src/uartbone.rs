//! LiteX's UARTBone wire protocol, as the board top's bridge speaks it, so that
//! `litex_server --uart` and `wishbone-tool` reach the host port as well as our own host.
//!
//! A frame from the host: a command byte ([`Command`]), a length byte (`n` 32-bit words), a
//! word address (4 bytes, most significant first), then for a write `n` words of 4 bytes,
//! most significant first. A read is answered with its `n` words the same way; a write is
//! not answered; there is no checksum. The address is the host port's word address
//! ([`crate::host_map`]); a word outside it is not written, and reads as zero.
//!
//! What this bridge does where the protocol leaves it open: a byte that is not a command
//! where a command is due is ignored; a length of zero ends the frame after its address;
//! bytes that arrive while a read is being answered are dropped; a frame that falls silent
//! for [`crate::board::FRAME_TIMEOUT_MS`] before its end is dropped, and the next byte is
//! read as a command.

/// A frame's command byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Write words at consecutive addresses.
    Write = 0x01,
    /// Read words at consecutive addresses.
    Read = 0x02,
    /// Write every word at the one address.
    WriteFixed = 0x03,
    /// Read every word at the one address.
    ReadFixed = 0x04,
}

impl Command {
    pub const ALL: [Command; 4] = [
        Command::Write,
        Command::Read,
        Command::WriteFixed,
        Command::ReadFixed,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn is_write(self) -> bool {
        matches!(self, Command::Write | Command::WriteFixed)
    }

    /// Whether the address moves on a word after each word.
    pub fn increments(self) -> bool {
        matches!(self, Command::Write | Command::Read)
    }

    pub fn name(self) -> &'static str {
        match self {
            Command::Write => "write",
            Command::Read => "read",
            Command::WriteFixed => "write_fixed",
            Command::ReadFixed => "read_fixed",
        }
    }
}

/// The most words one frame carries.
pub const MAX_WORDS: usize = 255;

/// Bytes of a frame's header: command, length, address.
pub const HEADER_BYTES: usize = 6;

/// A write frame: `command` (a write) at `addr`, carrying `words` (at most [`MAX_WORDS`]).
///
/// # Panics
/// On a read command or too many words: the caller splits its writes.
pub fn write_frame(command: Command, addr: u32, words: &[u32]) -> Vec<u8> {
    assert!(command.is_write(), "{} is not a write", command.name());
    let mut bytes = header(command, addr, words.len());
    for w in words {
        bytes.extend(w.to_be_bytes());
    }
    bytes
}

/// A read frame: `command` (a read) of `len` words (at most [`MAX_WORDS`]) at `addr`; the
/// answer is `4 * len` bytes.
///
/// # Panics
/// On a write command or too many words.
pub fn read_frame(command: Command, addr: u32, len: usize) -> Vec<u8> {
    assert!(!command.is_write(), "{} is not a read", command.name());
    header(command, addr, len)
}

fn header(command: Command, addr: u32, len: usize) -> Vec<u8> {
    assert!(
        len <= MAX_WORDS,
        "{len} words: a frame carries at most {MAX_WORDS}"
    );
    let mut bytes = Vec::with_capacity(HEADER_BYTES + 4 * len);
    bytes.push(command.code());
    bytes.push(len as u8);
    bytes.extend(addr.to_be_bytes());
    bytes
}
