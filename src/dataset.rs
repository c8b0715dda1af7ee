//! Images as the engine holds them: on the host (the command line, the CPU
//! fallback) or resident on the GPU (the browser on WebGPU), where each step
//! uploads only its batch's indices and the device gathers, unpacks and scales
//! the pixels itself.
//!
//! WGSL has no 8-bit integers, so four pixel bytes travel packed in one 32-bit
//! word (150 MB for the 50,000 training images, as in the files); a storage
//! binding is limited to 128 MiB by default, so each file is split into chunks
//! of at most [`CHUNK_IMAGES`] images. Scaling is a lookup in a table of the
//! 256 values the host computes, so a device batch equals the host batch bit
//! for bit.
//!
//! A file is identified by what it is ([`CifarFile`]): [`CifarFiles`] replaces
//! a file loaded again instead of appending it, and the [`Dataset`] it hands
//! out is a snapshot (shared, never copied) that the epoch loop keeps for a
//! whole epoch, so the training set never changes inside an epoch.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::cifar::{Cifar10, CifarFile, CifarImages, IMAGE_BYTES, scale};

/// Images per device chunk: 30.7 MB of packed pixels, well under WebGPU's
/// default 128 MiB storage-binding limit.
pub const CHUNK_IMAGES: usize = 10_000;
const WORDS: usize = IMAGE_BYTES / 4;

/// Bytes sent host → device to build training and test batches since the
/// program started (the benchmark reads it to count a step's upload).
static BATCH_UPLOAD_BYTES: AtomicU64 = AtomicU64::new(0);

pub fn batch_upload_bytes() -> u64 {
    BATCH_UPLOAD_BYTES.load(Ordering::Relaxed)
}

fn count_upload(bytes: usize) {
    BATCH_UPLOAD_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

/// Whatever holds images the trainer can take batches from.
pub trait Images {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images at `indices`, in that order, scaled to [-1, 1], as
    /// `[N, 3, 32, 32]` on `device` (gradients enabled or not, as `device` says).
    fn batch(&self, indices: &[usize], device: &Device) -> Tensor<4>;
}

impl Images for CifarImages {
    fn len(&self) -> usize {
        CifarImages::len(self)
    }

    fn batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        count_upload(indices.len() * IMAGE_BYTES * 4);
        CifarImages::batch(self, indices, device)
    }
}

fn indices_tensor(
    indices: impl ExactSizeIterator<Item = usize>,
    device: &Device,
) -> Tensor<1, Int> {
    let v: Vec<i32> = indices.map(|i| i as i32).collect();
    count_upload(v.len() * 4);
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// Images resident on a device: pixels packed four to a 32-bit word in
/// chunks, labels kept on the host (one byte each).
pub struct DeviceImages {
    labels: Vec<u8>,
    chunks: Vec<Tensor<2, Int>>,
    chunk_images: usize,
    /// `scale(p)` for p in 0..=255.
    table: Tensor<1>,
    /// Bit offsets of the four bytes in a word, `[1, 1, 4]`.
    shifts: Tensor<3, Int>,
}

impl DeviceImages {
    /// Upload `images` once, in chunks of [`CHUNK_IMAGES`].
    pub fn upload(images: &CifarImages, device: &Device) -> Self {
        Self::upload_chunked(images, device, CHUNK_IMAGES)
    }

    /// As [`upload`](Self::upload) with chunks of `chunk_images` (tests use small ones).
    pub fn upload_chunked(images: &CifarImages, device: &Device, chunk_images: usize) -> Self {
        let device = device.clone().inner();
        let chunk_images = chunk_images.max(1);
        let n = images.len();
        let chunks = (0..n)
            .step_by(chunk_images)
            .map(|start| {
                let end = (start + chunk_images).min(n);
                packed(images, &(start..end).collect::<Vec<_>>(), &device)
            })
            .collect();
        let table: Vec<f32> = (0..=255u8).map(scale).collect();
        Self {
            labels: images.labels().to_vec(),
            chunks,
            chunk_images,
            table: Tensor::from_data(TensorData::new(table, [256]), &device),
            shifts: Tensor::from_data(TensorData::new(vec![0i32, 8, 16, 24], [1, 1, 4]), &device),
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Bytes of pixels held on the device.
    pub fn device_bytes(&self) -> usize {
        self.len() * IMAGE_BYTES
    }

    /// The packed words `[k, 768]` of the images whose indices into chunk
    /// `chunk` are `local` (already on the device).
    fn words(&self, chunk: usize, local: Tensor<1, Int>) -> Tensor<2, Int> {
        self.chunks[chunk].clone().select(0, local)
    }

    /// Packed words `[k, 768]` → scaled pixels `[k, 3, 32, 32]`: three kernels
    /// (shift, mask, table lookup) whatever the number of chunks involved.
    fn unpack(&self, words: Tensor<2, Int>) -> Tensor<4> {
        let k = words.dims()[0];
        let bytes = words
            .reshape([k, WORDS, 1])
            .bitwise_right_shift(self.shifts.clone())
            .bitwise_and_scalar(255)
            .reshape([k * IMAGE_BYTES]);
        self.table.clone().select(0, bytes).reshape([k, 3, 32, 32])
    }
}

/// `images[indices]` uploaded as the device holds them: `[k, 768]` words of
/// four pixel bytes each (when a file is uploaded, and for the host images of
/// a set that mixes both).
fn packed(images: &CifarImages, indices: &[usize], device: &Device) -> Tensor<2, Int> {
    let words: Vec<i32> = indices
        .iter()
        .flat_map(|&i| images.image(i).chunks_exact(4))
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i32)
        .collect();
    Tensor::from_data(TensorData::new(words, [indices.len(), WORDS]), device)
}

/// One file's images, held where the engine's device wants them.
pub enum Part {
    Host(CifarImages),
    Device(Box<DeviceImages>),
}

impl Part {
    pub fn len(&self) -> usize {
        match self {
            Part::Host(i) => i.len(),
            Part::Device(i) => i.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn labels(&self) -> &[u8] {
        match self {
            Part::Host(i) => i.labels(),
            Part::Device(i) => i.labels(),
        }
    }

    /// Chunk of image `j` and its index inside that chunk.
    fn chunk_of(&self, j: usize) -> (usize, usize) {
        match self {
            Part::Host(_) => (0, j),
            Part::Device(d) => (j / d.chunk_images, j % d.chunk_images),
        }
    }
}

/// A split as an ordered list of shared parts: cloning it copies no pixels.
#[derive(Clone, Default)]
pub struct ImageSet {
    parts: Vec<Arc<Part>>,
    limit: Option<usize>,
}

impl From<CifarImages> for ImageSet {
    fn from(images: CifarImages) -> Self {
        ImageSet::new(vec![Arc::new(Part::Host(images))])
    }
}

impl From<DeviceImages> for ImageSet {
    fn from(images: DeviceImages) -> Self {
        ImageSet::new(vec![Arc::new(Part::Device(Box::new(images)))])
    }
}

impl ImageSet {
    pub fn new(parts: Vec<Arc<Part>>) -> Self {
        Self { parts, limit: None }
    }

    /// Use only the first `n` images (the page's `?images=` / `?tests=`).
    pub fn with_limit(mut self, n: Option<usize>) -> Self {
        self.limit = n;
        self
    }

    /// Which part holds image `i`, and where in it.
    fn locate(&self, mut i: usize) -> (usize, usize) {
        for (p, part) in self.parts.iter().enumerate() {
            if i < part.len() {
                return (p, i);
            }
            i -= part.len();
        }
        panic!("image index out of range");
    }

    pub fn label(&self, i: usize) -> u8 {
        let (p, j) = self.locate(i);
        self.parts[p].labels()[j]
    }
}

impl Images for ImageSet {
    fn len(&self) -> usize {
        let all: usize = self.parts.iter().map(|p| p.len()).sum();
        self.limit.map_or(all, |n| all.min(n))
    }

    fn batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        let n = indices.len();
        assert!(
            indices.iter().all(|&i| i < self.len()),
            "image index out of range"
        );
        let located: Vec<(usize, usize)> = indices.iter().map(|&i| self.locate(i)).collect();
        let resident = self.parts.iter().find_map(|p| match &**p {
            Part::Device(d) => Some(d),
            Part::Host(_) => None,
        });
        let Some(unpacker) = resident else {
            // All on the host: scale here and upload the batch as f32, in order.
            let mut values = Vec::with_capacity(n * IMAGE_BYTES);
            for &(p, j) in &located {
                if let Part::Host(images) = &*self.parts[p] {
                    values.extend(images.image(j).iter().map(|&b| scale(b)));
                }
            }
            count_upload(values.len() * 4);
            return Tensor::from_data(TensorData::new(values, [n, 3, 32, 32]), device);
        };
        // On the device: gather each chunk's words, put them in batch order, unpack once.
        let mut groups: BTreeMap<(usize, usize), Vec<(usize, usize)>> = BTreeMap::new();
        for (pos, &(p, j)) in located.iter().enumerate() {
            let (c, local) = self.parts[p].chunk_of(j);
            groups.entry((p, c)).or_default().push((pos, local));
        }
        let inner = unpacker.table.device();
        // Batch position of each gathered row, and where rows must move back to.
        let order: Vec<usize> = groups.values().flatten().map(|&(pos, _)| pos).collect();
        let reorder = order.iter().enumerate().any(|(k, &pos)| k != pos);
        // Every index the batch needs, in one upload: each group's local
        // indices in turn, then (if needed) the inverse permutation.
        let mut all: Vec<usize> = groups.values().flatten().map(|&(_, j)| j).collect();
        if reorder {
            let mut inverse = vec![0; n];
            for (k, &pos) in order.iter().enumerate() {
                inverse[pos] = k;
            }
            all.extend(inverse);
        }
        let all = indices_tensor(all.into_iter(), &inner);
        let mut pieces = Vec::with_capacity(groups.len());
        let mut start = 0;
        for ((p, c), items) in &groups {
            pieces.push(match &*self.parts[*p] {
                Part::Device(d) => d.words(*c, all.clone().narrow(0, start, items.len())),
                Part::Host(images) => {
                    let local: Vec<usize> = items.iter().map(|&(_, j)| j).collect();
                    count_upload(local.len() * IMAGE_BYTES);
                    packed(images, &local, &inner)
                }
            });
            start += items.len();
        }
        // One piece (a batch within one chunk) needs no copy.
        let mut words = if pieces.len() == 1 {
            pieces.pop().expect("one piece")
        } else {
            Tensor::cat(pieces, 0)
        };
        if reorder {
            words = words.select(0, all.narrow(0, n, n));
        }
        let x = unpacker.unpack(words).to_device(&device.clone().inner());
        if device.is_autodiff() {
            x.autodiff()
        } else {
            x
        }
    }
}

/// The two splits a run trains and evaluates on.
#[derive(Clone, Default)]
pub struct Dataset {
    pub train: ImageSet,
    pub test: ImageSet,
}

impl From<Cifar10> for Dataset {
    fn from(data: Cifar10) -> Self {
        Dataset {
            train: data.train.into(),
            test: data.test.into(),
        }
    }
}

/// Where [`CifarFiles`] keeps the images it is given.
#[derive(Clone)]
pub enum Placement {
    Host,
    /// Uploaded once to this device.
    Device(Device),
}

/// The official files the engine holds, each at most once.
pub struct CifarFiles {
    files: BTreeMap<CifarFile, Arc<Part>>,
    placement: Placement,
    train_limit: Option<usize>,
    test_limit: Option<usize>,
}

impl CifarFiles {
    pub fn new(placement: Placement) -> Self {
        Self {
            files: BTreeMap::new(),
            placement,
            train_limit: None,
            test_limit: None,
        }
    }

    /// Keep `file`'s images, replacing an earlier copy of the same file.
    /// Returns whether one was replaced.
    pub fn insert(&mut self, file: CifarFile, images: CifarImages) -> bool {
        let part = match &self.placement {
            Placement::Host => Part::Host(images),
            Placement::Device(d) => Part::Device(Box::new(DeviceImages::upload(&images, d))),
        };
        self.files.insert(file, Arc::new(part)).is_some()
    }

    pub fn remove(&mut self, file: CifarFile) -> bool {
        self.files.remove(&file).is_some()
    }

    pub fn clear(&mut self) {
        self.files.clear();
    }

    /// Use at most this many training / test images (`None`: all).
    pub fn set_limits(&mut self, train: Option<usize>, test: Option<usize>) {
        self.train_limit = train;
        self.test_limit = test;
    }

    /// The page's cap on training images, when it set one.
    pub fn train_limit(&self) -> Option<usize> {
        self.train_limit
    }

    /// The files present, training batches first, with their image counts.
    pub fn present(&self) -> Vec<(CifarFile, usize)> {
        self.files.iter().map(|(f, p)| (*f, p.len())).collect()
    }

    /// Bytes of pixels held on a device (0 when held on the host).
    pub fn device_bytes(&self) -> usize {
        self.files
            .values()
            .map(|p| match &**p {
                Part::Device(d) => d.device_bytes(),
                Part::Host(_) => 0,
            })
            .sum()
    }

    /// The splits as they are now: training batches in file order 1..5.
    pub fn dataset(&self) -> Dataset {
        let train = self
            .files
            .iter()
            .filter(|(f, _)| matches!(f, CifarFile::Train(_)))
            .map(|(_, p)| p.clone())
            .collect();
        let test = self
            .files
            .get(&CifarFile::Test)
            .cloned()
            .into_iter()
            .collect();
        Dataset {
            train: ImageSet::new(train).with_limit(self.train_limit),
            test: ImageSet::new(test).with_limit(self.test_limit),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// `n` images whose pixels vary with the image and the position; labels cycle.
    fn images(n: usize, seed: usize) -> CifarImages {
        let mut bytes = Vec::new();
        for i in 0..n {
            bytes.push(((i + seed) % 10) as u8);
            bytes.extend((0..IMAGE_BYTES).map(|p| ((i * 37 + p * 11 + seed * 101) % 256) as u8));
        }
        CifarImages::parse("generated", &bytes).unwrap()
    }

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn a_device_batch_equals_the_host_batch_bit_for_bit() {
        let device = Device::flex();
        let host = images(23, 0);
        // Chunks of 5 images: batches span chunks; the last chunk holds 3.
        let resident = ImageSet::from(DeviceImages::upload_chunked(&host, &device, 5));
        let mut rng = StdRng::seed_from_u64(1);
        let mut cases: Vec<Vec<usize>> = vec![
            vec![4, 5],
            vec![22],
            vec![20, 21, 22],
            (0..23).rev().collect(),
        ];
        for _ in 0..20 {
            let k = rng.random_range(1..=16);
            cases.push((0..k).map(|_| rng.random_range(0..23)).collect());
        }
        for idx in cases {
            let want = values(CifarImages::batch(&host, &idx, &device));
            let got = values(resident.batch(&idx, &device));
            assert_eq!(
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "indices {idx:?}"
            );
        }
        // Every byte value scales as on the host.
        assert_eq!(values(resident.batch(&[0], &device)).len(), IMAGE_BYTES);
    }

    #[test]
    fn batches_span_files_in_file_order_and_carry_gradients_where_asked() {
        let device = Device::flex();
        let (a, b) = (images(4, 1), images(6, 2));
        let b2 = b.clone();
        let mut files = CifarFiles::new(Placement::Device(device.clone()));
        files.insert(CifarFile::Train(2), b.clone());
        files.insert(CifarFile::Train(1), a.clone());
        let set = files.dataset().train;
        assert_eq!(set.len(), 10);
        let mut both = a.clone();
        both.extend(b);
        assert_eq!(set.label(5), both.label(5));
        let idx = [9, 0, 4, 3, 5, 1];
        let want = values(CifarImages::batch(&both, &idx, &device));
        assert_eq!(values(set.batch(&idx, &device)), want);
        assert!(set.batch(&idx, &device.clone().autodiff()).is_autodiff());
        // A set mixing host and device parts packs its host images the same way.
        let mixed = ImageSet::new(vec![
            Arc::new(Part::Host(a)),
            Arc::new(Part::Device(Box::new(DeviceImages::upload_chunked(
                &b2, &device, 4,
            )))),
        ]);
        assert_eq!(values(mixed.batch(&idx, &device)), want);
    }

    #[test]
    fn a_file_loaded_again_replaces_its_copy() {
        let mut files = CifarFiles::new(Placement::Host);
        assert!(!files.insert(CifarFile::Train(1), images(7, 0)));
        assert!(files.insert(CifarFile::Train(1), images(7, 0)));
        assert_eq!(files.dataset().train.len(), 7);
        files.insert(CifarFile::Train(3), images(2, 0));
        files.insert(CifarFile::Test, images(3, 0));
        assert!(files.insert(CifarFile::Test, images(4, 0)));
        let d = files.dataset();
        assert_eq!((d.train.len(), d.test.len()), (9, 4));
        files.set_limits(Some(8), Some(2));
        let d = files.dataset();
        assert_eq!((d.train.len(), d.test.len()), (8, 2));
        assert!(files.remove(CifarFile::Train(1)));
        assert_eq!(files.dataset().train.len(), 2);
    }

    #[test]
    fn a_snapshot_keeps_its_images_when_files_change() {
        let mut files = CifarFiles::new(Placement::Host);
        files.insert(CifarFile::Train(1), images(5, 0));
        let before = files.dataset();
        files.insert(CifarFile::Train(1), images(5, 9));
        files.insert(CifarFile::Train(2), images(5, 0));
        let device = Device::flex();
        assert_eq!(before.train.len(), 5);
        assert_eq!(
            values(before.train.batch(&[2], &device)),
            values(CifarImages::batch(&images(5, 0), &[2], &device))
        );
    }
}
