//! Reading a blob file safely: only a regular file, and never more than [`MAX_BLOB_LEN`]
//! bytes, so that a FIFO, a device (`/dev/zero`) or a file that keeps growing can neither
//! hang nor exhaust the reader.
//!
//! The caller opens the file with `O_NONBLOCK` (opening a FIFO without it waits for a
//! writer before any check can run; on a regular file the flag changes nothing), then
//! hands the open file to [`read_opened`], which looks at what was actually opened.

use std::fmt;
use std::io::{self, Read};

/// The largest blob a reader accepts: 16 MiB. A compiled stock policy takes 10 to 20 KiB
/// (the policy record, the mount plan and at most 4096 BPF instructions of 8 bytes); the
/// rest is room for large plans and policy records.
pub const MAX_BLOB_LEN: u64 = 16 << 20;

/// Why a blob file was not read.
#[derive(Debug)]
pub enum FileError {
    /// Not a regular file (a FIFO, a device, a directory, a socket).
    NotRegular(&'static str),
    /// Larger than [`MAX_BLOB_LEN`].
    TooLarge,
    /// The read itself failed.
    Io(io::Error),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::NotRegular(kind) => write!(f, "{kind}, not a regular file"),
            FileError::TooLarge => write!(
                f,
                "larger than a blob can be ({} MiB at most)",
                MAX_BLOB_LEN >> 20
            ),
            FileError::Io(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for FileError {}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Reads an opened blob file: refuses what is not a regular file or is larger than
/// [`MAX_BLOB_LEN`] before reading, and reads at most one byte more than that (a file
/// that grows while it is read is refused too).
pub fn read_opened(file: std::fs::File) -> Result<Vec<u8>, FileError> {
    let meta = file.metadata().map_err(FileError::Io)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular(kind_of(&meta)));
    }
    if meta.len() > MAX_BLOB_LEN {
        return Err(FileError::TooLarge);
    }
    read_bounded(file)
}

/// Reads at most [`MAX_BLOB_LEN`] bytes from any reader (standard input, for one), and
/// refuses more.
pub fn read_bounded(reader: impl Read) -> Result<Vec<u8>, FileError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_BLOB_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(FileError::Io)?;
    if bytes.len() as u64 > MAX_BLOB_LEN {
        return Err(FileError::TooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_refuses_the_rest() {
        let dir = std::env::temp_dir().join(format!("pcul-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.blob");
        std::fs::write(&path, b"PCULBLOB").unwrap();
        let bytes = read_opened(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(bytes, b"PCULBLOB");
        let err = read_opened(std::fs::File::open(&dir).unwrap()).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        let err = read_opened(std::fs::File::open("/dev/zero").unwrap()).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        // A sparse file just over the limit is refused without being read.
        let big = std::fs::File::create(dir.join("big.blob")).unwrap();
        big.set_len(MAX_BLOB_LEN + 1).unwrap();
        let err = read_opened(std::fs::File::open(dir.join("big.blob")).unwrap()).unwrap_err();
        assert!(matches!(err, FileError::TooLarge), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        // An endless stream stops one byte past the limit.
        let err = read_bounded(io::repeat(0)).unwrap_err();
        assert!(matches!(err, FileError::TooLarge));
        assert_eq!(read_bounded(&b"abc"[..]).unwrap(), b"abc");
    }
}
