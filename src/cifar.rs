//! CIFAR-10 in the official binary layout: each record is one label byte and
//! 3072 pixel bytes (1024 R, 1024 G, 1024 B, row-major 32x32).
//!
//! Everything here works on byte slices so that the browser (which fetches or
//! drops files) and the command line (which reads them) share one parser.

use std::io::Read;

use burn::tensor::{Device, Tensor, TensorData};
use thiserror::Error;

pub const IMAGE_BYTES: usize = 3 * 32 * 32;
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// The official files hold 10,000 images each.
pub const MAX_FILE_BYTES: usize = 10_000 * RECORD_BYTES;
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// Folder names under the data root: the whole set and the test slice.
pub const FULL_DIR: &str = "cifar-10-batches-bin";
pub const MINI_DIR: &str = "cifar-10-batches-bin-mini";
pub const TEST_FILE: &str = "test_batch.bin";
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

#[derive(Debug, Error, PartialEq)]
pub enum DataError {
    #[error(
        "{file}: {len} bytes is not a whole number of CIFAR-10 records (3073 bytes each: 1 label + 3072 pixels); the file is truncated or not the binary version"
    )]
    BadSize { file: String, len: usize },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error(
        "{file}: record {record} has label {label}, but CIFAR-10 labels are 0 to 9; this is not a CIFAR-10 binary file"
    )]
    BadLabel {
        file: String,
        record: usize,
        label: u8,
    },
    #[error(
        "{archive}: cannot unpack ({reason}); the archive is corrupt or truncated, expected the official cifar-10-binary.tar.gz"
    )]
    Archive { archive: String, reason: String },
    #[error("{place}: no {what} found (expected {expected})")]
    Missing {
        place: String,
        what: &'static str,
        expected: String,
    },
}

/// Labelled images kept as raw bytes (30 MB for 10,000 images, versus 123 MB as f32).
#[derive(Clone, Debug, Default)]
pub struct CifarImages {
    labels: Vec<u8>,
    pixels: Vec<u8>,
}

impl CifarImages {
    /// Parse one `.bin` file's bytes; `file` names it in error messages.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, DataError> {
        if bytes.is_empty() {
            return Err(DataError::Empty { file: file.into() });
        }
        if !bytes.len().is_multiple_of(RECORD_BYTES) {
            return Err(DataError::BadSize {
                file: file.into(),
                len: bytes.len(),
            });
        }
        let n = bytes.len() / RECORD_BYTES;
        let mut labels = Vec::with_capacity(n);
        let mut pixels = Vec::with_capacity(n * IMAGE_BYTES);
        for (record, chunk) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
            let label = chunk[0];
            if label > 9 {
                return Err(DataError::BadLabel {
                    file: file.into(),
                    record,
                    label,
                });
            }
            labels.push(label);
            pixels.extend_from_slice(&chunk[1..]);
        }
        Ok(Self { labels, pixels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn extend(&mut self, other: CifarImages) {
        self.labels.extend(other.labels);
        self.pixels.extend(other.pixels);
    }

    /// Keep only the first `n` images (the command line's `--limit`).
    pub fn truncate(&mut self, n: usize) {
        self.labels.truncate(n);
        self.pixels.truncate(n * IMAGE_BYTES);
    }

    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Planar CHW bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }

    /// The images at `indices`, scaled to [-1, 1] as `x / 127.5 - 1`, as `[N, 3, 32, 32]`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        let mut values = Vec::with_capacity(indices.len() * IMAGE_BYTES);
        for &i in indices {
            values.extend(self.image(i).iter().map(|&p| scale(p)));
        }
        Tensor::from_data(TensorData::new(values, [indices.len(), 3, 32, 32]), device)
    }
}

/// A pixel byte as the model sees it: `p / 127.5 - 1`, in [-1, 1]. The device
/// path looks these 256 values up rather than recomputing them, so both agree
/// bit for bit (WGSL's division is only accurate to 2.5 ULP).
pub fn scale(p: u8) -> f32 {
    p as f32 / 127.5 - 1.0
}

/// Which official file a set of images is: a file loaded again replaces its
/// earlier copy instead of adding to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CifarFile {
    /// `data_batch_N.bin`, N in 1..=5.
    Train(usize),
    Test,
}

impl CifarFile {
    /// From a file name or path (`…/data_batch_3.bin`); `None` for anything else.
    pub fn from_name(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path);
        if name == TEST_FILE {
            return Some(CifarFile::Test);
        }
        TRAIN_FILES
            .iter()
            .position(|f| *f == name)
            .map(|k| CifarFile::Train(k + 1))
    }

    pub fn name(self) -> &'static str {
        match self {
            CifarFile::Train(n) => TRAIN_FILES[n - 1],
            CifarFile::Test => TEST_FILE,
        }
    }
}

/// The train and test splits.
#[derive(Clone, Debug, Default)]
pub struct Cifar10 {
    pub train: CifarImages,
    pub test: CifarImages,
}

impl Cifar10 {
    /// Build from named files (a folder's contents, dropped files, or a
    /// tarball's members). Train batches are concatenated in file order
    /// 1..5, whatever order they arrive in; unknown names are ignored.
    pub fn from_files<'a>(
        place: &str,
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Self, DataError> {
        let mut train: [Option<CifarImages>; 5] = Default::default();
        let mut test = None;
        for (path, bytes) in files {
            match CifarFile::from_name(path) {
                Some(f @ CifarFile::Train(n)) => {
                    train[n - 1] = Some(CifarImages::parse(f.name(), bytes)?)
                }
                Some(CifarFile::Test) => test = Some(CifarImages::parse(TEST_FILE, bytes)?),
                None => {}
            }
        }
        let mut out = Cifar10::default();
        for part in train.into_iter().flatten() {
            out.train.extend(part);
        }
        if out.train.is_empty() {
            return Err(DataError::Missing {
                place: place.into(),
                what: "training batch",
                expected: "data_batch_1.bin … data_batch_5.bin".into(),
            });
        }
        out.test = test.ok_or_else(|| DataError::Missing {
            place: place.into(),
            what: "test batch",
            expected: TEST_FILE.into(),
        })?;
        Ok(out)
    }

    /// Unpack the official `cifar-10-binary.tar.gz` held in memory.
    pub fn from_tar_gz(archive: &str, bytes: &[u8]) -> Result<Self, DataError> {
        let members = tar_gz_members(archive, bytes)?;
        Self::from_files(
            archive,
            members.iter().map(|(f, b)| (f.name(), b.as_slice())),
        )
    }
}

/// The CIFAR-10 files inside a `.tar.gz` (its other members are ignored), as
/// raw bytes; an archive holding none of them is an error.
pub fn tar_gz_members(archive: &str, bytes: &[u8]) -> Result<Vec<(CifarFile, Vec<u8>)>, DataError> {
    let bad = |e: std::io::Error| DataError::Archive {
        archive: archive.into(),
        reason: e.to_string(),
    };
    let mut members: Vec<(CifarFile, Vec<u8>)> = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        if let Some(file) = CifarFile::from_name(&path) {
            // The header's size is the archive's word, not a fact: one
            // claiming more than a CIFAR-10 file can hold is refused before
            // anything is allocated for it (a damaged header once asked for
            // gigabytes and aborted the engine).
            if entry.size() > MAX_FILE_BYTES as u64 {
                return Err(DataError::Archive {
                    archive: archive.into(),
                    reason: format!(
                        "its {path} claims {} bytes; a CIFAR-10 file holds at most {MAX_FILE_BYTES}",
                        entry.size()
                    ),
                });
            }
            let mut data = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut data).map_err(bad)?;
            members.push((file, data));
        }
    }
    if members.is_empty() {
        return Err(DataError::Missing {
            place: archive.into(),
            what: "CIFAR-10 file",
            expected: "data_batch_1.bin … data_batch_5.bin, test_batch.bin".into(),
        });
    }
    Ok(members)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn record(label: u8, fill: u8) -> Vec<u8> {
        let mut r = vec![label];
        r.extend(std::iter::repeat_n(fill, IMAGE_BYTES));
        r
    }

    #[test]
    fn parses_records_and_scales_to_minus_one_one() {
        let mut bytes = record(3, 0);
        bytes.extend(record(9, 255));
        let images = CifarImages::parse("x.bin", &bytes).unwrap();
        assert_eq!(images.len(), 2);
        assert_eq!((images.label(0), images.label(1)), (3, 9));
        let t = images.batch(&[1, 0], &Device::flex());
        assert_eq!(t.dims(), [2, 3, 32, 32]);
        let v = t.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!((v[0], v[IMAGE_BYTES]), (1.0, -1.0));
    }

    /// A tar header claiming gigabytes for a CIFAR-10 member is refused by
    /// name before anything is allocated for it.
    #[test]
    fn an_archive_member_claiming_too_many_bytes_is_refused() {
        use std::io::Write;
        let mut header = tar::Header::new_gnu();
        header
            .set_path("cifar-10-batches-bin/data_batch_1.bin")
            .unwrap();
        header.set_size(3 << 30);
        header.set_mode(0o644);
        header.set_cksum();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(header.as_bytes()).unwrap();
        gz.write_all(&[0; 1024]).unwrap();
        let err = tar_gz_members("x.tar.gz", &gz.finish().unwrap()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("claims 3221225472 bytes") && text.contains("at most 30730000"),
            "{text}"
        );
    }

    #[test]
    fn rejects_a_size_that_is_not_whole_records() {
        let mut bytes = record(1, 7);
        bytes.pop();
        let err = CifarImages::parse("data_batch_1.bin", &bytes).unwrap_err();
        assert_eq!(
            err,
            DataError::BadSize {
                file: "data_batch_1.bin".into(),
                len: 3072
            }
        );
        assert!(err.to_string().contains("3073"));
    }

    #[test]
    fn rejects_a_label_above_nine() {
        let mut bytes = record(1, 7);
        bytes.extend(record(10, 7));
        let err = CifarImages::parse("test_batch.bin", &bytes).unwrap_err();
        assert!(matches!(
            err,
            DataError::BadLabel {
                record: 1,
                label: 10,
                ..
            }
        ));
        assert!(err.to_string().contains("0 to 9"));
    }

    #[test]
    fn rejects_empty_files_and_missing_splits() {
        assert!(matches!(
            CifarImages::parse("a.bin", &[]),
            Err(DataError::Empty { .. })
        ));
        let r = record(0, 0);
        let err = Cifar10::from_files("dir", [("data_batch_1.bin", r.as_slice())]).unwrap_err();
        assert!(err.to_string().contains("test_batch.bin"));
        let err = Cifar10::from_files("dir", [("test_batch.bin", r.as_slice())]).unwrap_err();
        assert!(err.to_string().contains("data_batch_1.bin"));
    }

    #[test]
    fn rejects_garbage_as_an_archive() {
        let err = Cifar10::from_tar_gz("x.tar.gz", b"this is not gzip").unwrap_err();
        assert!(matches!(err, DataError::Archive { .. }), "{err}");
    }
}
